from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "personalization.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self):
        from . import rules

        rules.register_builtin_rules()
