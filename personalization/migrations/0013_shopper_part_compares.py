"""The shopper-part function also reads the intents and, for a full build, compares each
shopper's row with the stored profile, returning only those to write with their kind of change
(``profile_sql.AFFINITY_PART_FUNCTION``; issue 15)."""

import importlib

from django.db import migrations

from personalization.profile_sql import AFFINITY_PART_FUNCTION

PREVIOUS = importlib.import_module("personalization.migrations.0010_shopper_part_function")
DROP_PREVIOUS = PREVIOUS.DROP_CURRENT
DROP_CURRENT = (
    "DROP FUNCTION IF EXISTS personalization_shopper_part("
    "bigint, bigint, regclass, regclass, regclass, boolean)"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_PREVIOUS, params=None)
        schema_editor.execute(AFFINITY_PART_FUNCTION, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_CURRENT, params=None)
        schema_editor.execute(PREVIOUS.AFFINITY_PART_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [("personalization", "0012_affinity_add_function")]

    operations = [migrations.RunPython(forwards, backwards)]
