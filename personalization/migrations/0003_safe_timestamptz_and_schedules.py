from django.db import migrations

from personalization.profile_sql import SAFE_TIMESTAMPTZ_FUNCTION


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SAFE_TIMESTAMPTZ_FUNCTION)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS personalization_safe_timestamptz(text)")


def create_schedules(apps, schema_editor):
    from personalization.schedules import ensure_schedules

    ensure_schedules(
        PeriodicTask=apps.get_model("django_celery_beat", "PeriodicTask"),
        IntervalSchedule=apps.get_model("django_celery_beat", "IntervalSchedule"),
        CrontabSchedule=apps.get_model("django_celery_beat", "CrontabSchedule"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("personalization", "0002_profiles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_function, drop_function),
        migrations.RunPython(create_schedules, migrations.RunPython.noop),
    ]
