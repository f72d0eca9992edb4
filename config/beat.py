"""The beat schedules every app keeps in the database (django-celery-beat rows).

Each app lists its periodic tasks in ``<app>/schedules.py`` as ``SCHEDULES`` and creates them
with :func:`ensure_periodic_tasks` from a data migration and from its demo seeder. Missing rows
are created; existing ones are left alone, so staff can change or disable them in the admin
and a re-run keeps their edits.
"""

from __future__ import annotations


def ensure_periodic_tasks(
    schedules: list[dict], *, PeriodicTask=None, IntervalSchedule=None, CrontabSchedule=None
) -> int:
    """Create the periodic tasks of ``schedules`` that do not exist yet (matched by name).

    ``schedules``: dicts with ``name``, ``task`` (the Celery task name), ``description`` and
    either ``interval`` (``IntervalSchedule`` fields, e.g. ``{"every": 1, "period": "hours"}``)
    or ``crontab`` (``CrontabSchedule`` fields other than the day/month ones, which are ``*``;
    times in UTC). The models default to django-celery-beat's; a data migration passes its
    historical ones. Returns the number of rows created (0 on a re-run).
    """
    if PeriodicTask is None:
        from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
    created = 0
    for spec in schedules:
        if PeriodicTask.objects.filter(name=spec["name"]).exists():
            continue
        kwargs = {}
        if "interval" in spec:
            kwargs["interval"], _ = IntervalSchedule.objects.get_or_create(**spec["interval"])
        else:
            kwargs["crontab"], _ = CrontabSchedule.objects.get_or_create(
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone="UTC",
                **spec["crontab"],
            )
        PeriodicTask.objects.create(
            name=spec["name"], task=spec["task"], description=spec["description"], **kwargs
        )
        created += 1
    return created
