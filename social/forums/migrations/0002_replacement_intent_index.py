"""An index for the loyalty replacement-intent trigger (``ReplacementIntent`` in
personalization/loyalty/triggers.py): the texts with a replacement intent, by date.

PostgreSQL only, built CONCURRENTLY (no write lock on a large table; hence not atomic). The
embedded SQLite demo has no JSON containment (``@>``) and runs the trigger in Python, so
there the index exists in the migration state only."""

from django.db import migrations, models

INDEX = models.Index(
    condition=models.Q(("intents__contains", [{"intent": "replacement"}])),
    fields=["created_at"],
    name="post_replacement_recent",
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        model = apps.get_model("forums", "post")
        schema_editor.add_index(model, INDEX, concurrently=True)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        model = apps.get_model("forums", "post")
        schema_editor.remove_index(model, INDEX, concurrently=True)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("forums", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="post", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
