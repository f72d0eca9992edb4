from django.db import migrations


def create_schedules(apps, schema_editor):
    from privacy.schedules import ensure_schedules

    ensure_schedules(
        PeriodicTask=apps.get_model("django_celery_beat", "PeriodicTask"),
        IntervalSchedule=apps.get_model("django_celery_beat", "IntervalSchedule"),
        CrontabSchedule=apps.get_model("django_celery_beat", "CrontabSchedule"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
