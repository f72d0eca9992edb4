"""One function per part of the shoppers computes their affinity arrays and their recency,
frequency, money and sentiment (``profile_sql.AFFINITY_PART_FUNCTION``), from ranges of
shopper ids; it adds each key's scores in a fixed order, so that two full builds over the same
events give bit-identical profiles and the second writes none (issue 15)."""

import importlib

from django.db import migrations

# the function as this migration made it (migration 0013 replaces it)
AFFINITY_PART_FUNCTION = """
CREATE OR REPLACE FUNCTION personalization_shopper_part(
    from_user bigint, to_user bigint, staged_events regclass, pair_codes regclass)
RETURNS TABLE (user_id int, affinity_ids int[], affinity_raw float8[], event_count int,
               first_event_at timestamptz, last_event_at timestamptz, monetary numeric,
               last_purchase_at timestamptz, first_purchase_at timestamptz,
               sentiment_sum float8, sentiment_count int, order_count int)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH ev AS (
            SELECT * FROM %1$s ev WHERE ev.user_id >= $1 AND ev.user_id < $2
        ), aff AS (
            SELECT a.user_id, array_agg(a.code) AS ids, array_agg(a.raw) AS raw
            FROM (
                SELECT s.user_id, s.code, sum(s.w) AS raw
                FROM (
                    SELECT x.user_id, d.code, x.w
                    FROM (
                        SELECT ev.user_id, ev.w, pc.c1, pc.c2, pc.c3, pc.c4, pc.c5, pc.c6
                        FROM ev JOIN %2$s pc USING (product_id, variant_id)
                        WHERE ev.w IS NOT NULL
                        ORDER BY ev.user_id
                    ) AS x
                    CROSS JOIN LATERAL (VALUES (x.c1), (x.c2), (x.c3), (x.c4), (x.c5), (x.c6))
                        AS d(code)
                    WHERE d.code IS NOT NULL
                    ORDER BY x.user_id, d.code, x.w
                ) AS s
                GROUP BY s.user_id, s.code
            ) AS a
            GROUP BY a.user_id
        ), st AS (
            SELECT ev.user_id, count(*)::int AS event_count,
                   min(ev.occurred_at) AS first_event_at, max(ev.occurred_at) AS last_event_at,
                   coalesce(sum(ev.value), 0) AS monetary,
                   max(ev.occurred_at) FILTER (WHERE ev.order_key IS NOT NULL)
                       AS last_purchase_at,
                   min(ev.occurred_at) FILTER (WHERE ev.order_key IS NOT NULL)
                       AS first_purchase_at,
                   coalesce(sum(ev.sentiment), 0)::float8 AS sentiment_sum,
                   count(ev.sentiment)::int AS sentiment_count
            FROM ev GROUP BY ev.user_id
        ), od AS (
            SELECT o.user_id, count(*)::int AS order_count
            FROM (SELECT DISTINCT ev.user_id, ev.order_key FROM ev
                  WHERE ev.order_key IS NOT NULL) AS o
            GROUP BY o.user_id
        )
        SELECT st.user_id, coalesce(aff.ids, '{}'), coalesce(aff.raw, '{}'), st.event_count,
               st.first_event_at, st.last_event_at, st.monetary, st.last_purchase_at,
               st.first_purchase_at, st.sentiment_sum, st.sentiment_count,
               coalesce(od.order_count, 0)
        FROM st LEFT JOIN aff ON aff.user_id = st.user_id
        LEFT JOIN od ON od.user_id = st.user_id
    $q$, staged_events, pair_codes) USING from_user, to_user;
END $$;
"""

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
