"""The affinity function adds each key's scores in a fixed order (by value), so that two full
builds over the same events give bit-identical profiles and the second writes none (issue 15)."""

from django.db import migrations

from personalization.profile_sql import AFFINITY_PART_FUNCTION


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(AFFINITY_PART_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [("personalization", "0009_affinity_part_function")]

    # backwards: the previous body sums the same scores in another order; no need to restore it
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
