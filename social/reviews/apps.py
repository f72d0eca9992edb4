from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "social.reviews"
    label = "reviews"
    verbose_name = "Reviews"

    def ready(self):
        from . import engagement

        engagement.register()
