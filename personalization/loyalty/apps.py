from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "personalization.loyalty"
    label = "loyalty"
    verbose_name = "Loyalty and coupons"

    def ready(self):
        from shop import checkout, pricing

        from . import redemption, services

        pricing.register_discount_provider(redemption.CouponDiscounts())
        checkout.register_order_hook(services.loyalty_order_changed)
        from . import hooks

        hooks.register_all()
