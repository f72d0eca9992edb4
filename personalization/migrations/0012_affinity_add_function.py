"""The function that merges a batch's affinities into a stored profile
(``profile_sql.UPSERT_ADD``, the incremental build; issue 15)."""

from django.db import migrations

from personalization.profile_sql import AFFINITY_ADD_FUNCTION


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(AFFINITY_ADD_FUNCTION, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS personalization_affinity_add(int[], float8[], int[], float8[])",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [("personalization", "0011_profile_has_demographics")]

    operations = [migrations.RunPython(forwards, backwards)]
