from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "social.reviews"
    label = "reviews"
    verbose_name = "Reviews"
