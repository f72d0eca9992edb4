from django.apps import AppConfig


class FriendbookConfig(AppConfig):
    name = "friendbook"
    default_auto_field = "django.db.models.BigAutoField"
