"""The function catches errors (a subtransaction), which a parallel worker cannot start: it is
PARALLEL UNSAFE, not SAFE (a query calling it is planned without parallel workers)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER FUNCTION personalization_safe_timestamptz(text) PARALLEL UNSAFE"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER FUNCTION personalization_safe_timestamptz(text) PARALLEL SAFE")


class Migration(migrations.Migration):
    dependencies = [("personalization", "0004_event_kind_unlike")]

    operations = [migrations.RunPython(forwards, backwards)]
