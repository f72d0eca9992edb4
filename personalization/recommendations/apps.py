from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "personalization.recommendations"
    label = "recommendations"
    verbose_name = "Recommendations"

    def ready(self):
        from personalization.selectors import register_shopper_cache

        from .selectors import picks_cache_keys

        # A profile build, a shopper's choice or an interest removal forgets the cached picks.
        register_shopper_cache(picks_cache_keys)
