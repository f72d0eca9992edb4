from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "social.engagement"
    label = "engagement"
    verbose_name = "Engagement"

    def ready(self):
        from shop.models import Product

        from . import likeable, receivers  # noqa: F401  (receivers: connects the signals)

        def product_image(product):
            image = product.primary_image
            return image.image.url if image else None

        likeable.register(
            Product,
            key="product",
            queryset=lambda: Product.objects.select_related("brand").prefetch_related("images"),
            is_visible=lambda product: product.is_active,
            title=lambda product: product.name,
            image_url=product_image,
        )
