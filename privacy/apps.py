from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy"

    def ready(self):
        # Every installed app may declare its personal data in a ``privacy.py`` module; Django's
        # own apps and allauth are declared in ``privacy.builtin``.
        from django.utils.module_loading import autodiscover_modules

        from . import builtin  # noqa: F401

        autodiscover_modules("privacy")
