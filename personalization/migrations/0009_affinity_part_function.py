"""The function that sums one part of the shoppers' affinities (``profile_sql.AFFINITIES``),
so that a full build can run the parts in parallel workers (issue 15)."""

from django.db import migrations

# The function as this migration made it (0010 replaced it; ``profile_sql`` holds the current
# one), kept here so that migrating a new database step by step gives the same result.
AFFINITY_PART_FUNCTION = """
CREATE OR REPLACE FUNCTION personalization_affinity_part(
    part int, parts int, weighted_events regclass, pair_codes regclass)
RETURNS TABLE (user_id int, affinity_ids int[], affinity_raw float8[])
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT a.user_id, array_agg(a.code), array_agg(a.raw)
        FROM (
            SELECT x.user_id, d.code, sum(x.w) AS raw
            FROM (
                SELECT ev.user_id, ev.w, pc.c1, pc.c2, pc.c3, pc.c4, pc.c5, pc.c6
                FROM %s ev JOIN %s pc USING (product_id, variant_id)
                WHERE $2 = 1 OR ev.user_id %% $2 = $1
                ORDER BY ev.user_id
            ) AS x
            CROSS JOIN LATERAL (VALUES (x.c1), (x.c2), (x.c3), (x.c4), (x.c5), (x.c6)) AS d(code)
            WHERE d.code IS NOT NULL
            GROUP BY x.user_id, d.code
        ) AS a
        GROUP BY a.user_id
    $q$, weighted_events, pair_codes) USING part, parts;
END $$;
"""


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
