from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self):
        from . import receivers  # noqa: F401
        from .pagecache import connect_receivers
        from .signed import connect_receivers as connect_signed_receivers

        connect_receivers()
        connect_signed_receivers()
