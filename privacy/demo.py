"""Demo data of privacy: the beat schedules, the settings row, and a ready copy of the data of
the first demo shopper (so "Your data" shows a download at once)."""

from django.contrib.auth import get_user_model

from .models import DataExport, PrivacySettings
from .schedules import ensure_schedules

DEMO_SHOPPER = "shopper01@agora.test"


def seed(*, stdout) -> None:
    from . import services

    created = ensure_schedules()
    PrivacySettings.objects.get_or_create(pk=1)
    shopper = get_user_model().objects.filter(email=DEMO_SHOPPER).first()
    built = 0
    if shopper is not None and not DataExport.objects.filter(user=shopper).exists():
        export = services.export_request(user=shopper)
        services.export_build(export_id=export.pk)  # idempotent if the task already built it
        built = 1
    stdout.write(f"privacy: {created} schedules added, {built} demo data copy prepared")
