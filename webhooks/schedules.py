"""The webhooks beat schedule (django-celery-beat row, created once; staff may edit it)."""

SCHEDULE = {
    "name": "webhooks: send due retries",
    "task": "webhooks.send_due",
    "description": "Sends webhook deliveries whose retry time has come.",
}


def ensure_schedule(*, PeriodicTask=None, IntervalSchedule=None) -> bool:
    if PeriodicTask is None:
        from django_celery_beat.models import IntervalSchedule, PeriodicTask
    if PeriodicTask.objects.filter(name=SCHEDULE["name"]).exists():
        return False
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.create(interval=interval, **SCHEDULE)
    return True
