from django.apps import AppConfig


class BannersConfig(AppConfig):
    name = "personalization.banners"
    label = "banners"
    verbose_name = "Banners"
