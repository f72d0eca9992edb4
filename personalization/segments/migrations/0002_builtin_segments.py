from django.db import migrations


def create(apps, schema_editor):
    from personalization.segments.builtin import ensure_builtin_segments
    from personalization.segments.schedules import ensure_schedules

    ensure_builtin_segments(Segment=apps.get_model("segments", "Segment"))
    ensure_schedules(
        PeriodicTask=apps.get_model("django_celery_beat", "PeriodicTask"),
        IntervalSchedule=apps.get_model("django_celery_beat", "IntervalSchedule"),
        CrontabSchedule=apps.get_model("django_celery_beat", "CrontabSchedule"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
