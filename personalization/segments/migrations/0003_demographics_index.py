"""A GIN index on the profiles' demographics, so demographic rules (``@>``) use an index.

Kept in segments (its only user) and created only on PostgreSQL.
"""

from django.db import migrations

INDEX = "segments_profile_demographics_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON personalization_preferenceprofile "
            "USING gin (demographics jsonb_path_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("segments", "0002_builtin_segments"), ("personalization", "0004_event_kind_unlike")]

    operations = [migrations.RunPython(create, drop)]
