"""Store each profile's affinities as two arrays of the same length (interest key ids, raw
scores) beside a dictionary of interest keys, instead of a JSON object of ~31 scores.

Writing the JSON object was ~45 % of the full profile build (issue 15: 3,000,000 scores printed
as text and parsed again as jsonb, 107 MB for 100,000 shoppers); two arrays cost the build
almost nothing more than the grouping itself. ``PreferenceProfile.affinities`` stays the
Python-facing dict. The existing profiles are converted in place (and back when reversed).
"""

import json

from django.db import migrations, models

import personalization.models

FORWARD_SQL = [
    """
    INSERT INTO personalization_interestkey (key)
    SELECT k FROM (
        SELECT DISTINCT jsonb_object_keys(affinities) AS k FROM personalization_preferenceprofile
    ) AS keys
    WHERE NOT EXISTS (SELECT 1 FROM personalization_interestkey i WHERE i.key = keys.k)
    ORDER BY k
    """,
    """
    UPDATE personalization_preferenceprofile AS p
    SET (affinity_ids, affinity_raw) = (
        SELECT coalesce(array_agg(i.id ORDER BY i.id), '{}'),
               coalesce(array_agg((e.value)::float8 ORDER BY i.id), '{}')
        FROM jsonb_each(p.affinities) AS e
        JOIN personalization_interestkey i ON i.key = e.key)
    WHERE p.affinities <> '{}'::jsonb
    """,
]

BACKWARD_SQL = """
UPDATE personalization_preferenceprofile AS p
SET affinities = (
    SELECT coalesce(jsonb_object_agg(i.key, a.raw), '{}'::jsonb)
    FROM unnest(p.affinity_ids, p.affinity_raw) AS a(id, raw)
    JOIN personalization_interestkey i ON i.id = a.id)
WHERE cardinality(p.affinity_ids) > 0
"""


def _loads(value):
    return json.loads(value) if isinstance(value, str) else value


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD_SQL:
            schema_editor.execute(statement)
        return
    Profile = apps.get_model("personalization", "PreferenceProfile")
    InterestKey = apps.get_model("personalization", "InterestKey")
    for profile in Profile.objects.exclude(affinities={}):
        affinities = _loads(profile.affinities) or {}
        ids = {}
        for key in sorted(affinities):
            ids[key] = InterestKey.objects.get_or_create(key=key)[0].id
        pairs = sorted((ids[k], float(v)) for k, v in affinities.items())
        profile.affinity_ids = [i for i, _ in pairs]
        profile.affinity_raw = [raw for _, raw in pairs]
        profile.save(update_fields=["affinity_ids", "affinity_raw"])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD_SQL)
        return
    Profile = apps.get_model("personalization", "PreferenceProfile")
    keys = dict(apps.get_model("personalization", "InterestKey").objects.values_list("id", "key"))
    for profile in Profile.objects.all():
        ids, raw = _loads(profile.affinity_ids) or [], _loads(profile.affinity_raw) or []
        profile.affinities = {keys[i]: r for i, r in zip(ids, raw, strict=True)}
        profile.save(update_fields=["affinities"])


class Migration(migrations.Migration):
    dependencies = [("personalization", "0007_event_stream_cursor")]

    operations = [
        migrations.CreateModel(
            name="InterestKey",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                ("key", models.CharField(max_length=200, unique=True)),
            ],
        ),
        migrations.AddField(
            model_name="preferenceprofile",
            name="affinity_ids",
            field=personalization.models.NumberArrayField(blank=True, kind="integer"),
        ),
        migrations.AddField(
            model_name="preferenceprofile",
            name="affinity_raw",
            field=personalization.models.NumberArrayField(blank=True, kind="float"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="preferenceprofile", name="affinities"),
    ]
