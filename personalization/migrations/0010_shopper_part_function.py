"""One function per part of the shoppers computes their affinity arrays and their recency,
frequency, money and sentiment (``profile_sql.AFFINITY_PART_FUNCTION``), from ranges of
shopper ids; it adds each key's scores in a fixed order, so that two full builds over the same
events give bit-identical profiles and the second writes none (issue 15)."""

import importlib

from django.db import migrations

from personalization.profile_sql import AFFINITY_PART_FUNCTION

PREVIOUS = importlib.import_module("personalization.migrations.0009_affinity_part_function")
DROP_PREVIOUS = (
    "DROP FUNCTION IF EXISTS personalization_affinity_part(int, int, regclass, regclass)"
)
DROP_CURRENT = (
    "DROP FUNCTION IF EXISTS personalization_shopper_part(bigint, bigint, regclass, regclass)"
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
    dependencies = [("personalization", "0009_affinity_part_function")]

    operations = [migrations.RunPython(forwards, backwards)]
