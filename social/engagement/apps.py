from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "social.engagement"
    label = "engagement"
    verbose_name = "Engagement"
