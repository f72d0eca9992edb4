from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "personalization.outreach"
    label = "outreach"
    verbose_name = "Email outreach"

    def ready(self):
        from . import receivers  # noqa: F401  (anymail bounce/complaint webhooks, sign-up)
