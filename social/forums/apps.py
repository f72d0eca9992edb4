from django.apps import AppConfig


class ForumsConfig(AppConfig):
    name = "social.forums"
    label = "forums"
    verbose_name = "Forums"

    def ready(self):
        from . import engagement

        engagement.register()
