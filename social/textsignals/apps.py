from django.apps import AppConfig


class TextSignalsConfig(AppConfig):
    name = "social.textsignals"
    label = "textsignals"
    verbose_name = "Text signals"
