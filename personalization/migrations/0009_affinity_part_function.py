"""The function that sums one part of the shoppers' affinities (``profile_sql.AFFINITIES``),
so that a full build can run the parts in parallel workers (issue 15)."""

from django.db import migrations

from personalization.profile_sql import AFFINITY_PART_FUNCTION


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(AFFINITY_PART_FUNCTION, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS personalization_affinity_part(int, int, regclass, regclass)",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [("personalization", "0008_profile_affinity_arrays")]

    operations = [migrations.RunPython(forwards, backwards)]
