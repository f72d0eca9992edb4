"""PostgreSQL statements of the profile build (set-based: no Python loop per event).

``STEPS`` fold the events ``lo < id <= hi`` (optionally of one shopper) into one row per
shopper in the temporary table ``pz_agg``, through small staging tables (``pz_ev`` weighted
events, ``pz_keys``/``pz_pc`` attribute keys and their ids in the ``InterestKey`` dictionary,
``pz_aff`` affinity arrays, ``pz_stats``), all dropped at commit; ``building.aggregate_sql``
runs them. The only lasting write is the dictionary rows of keys never met before. Measured
with EXPLAIN (ANALYZE, BUFFERS) and the backend's CPU time on 1,000,000 events (issue 15): the
affinities are the cost (3,000,000 (shopper, key) scores); the opt-out NOT EXISTS per event
was a million-loop anti join. So: the decayed weight is computed once per weighted event;
each product's attribute keys become their small integer ids in the key dictionary; the
(shopper, key) sums stream from the events sorted by shopper once (an incremental sort of each
shopper's few rows, no hash table of millions of groups); each shopper's affinities are two
arrays (key ids, raw scores): writing them as a JSON object instead (text from pre-quoted keys
parsed once, or ``jsonb_object_agg``) cost 2.4 s of backend CPU more than the grouping (2.0 s)
itself, the arrays 0.1 s (the profile stores the arrays, see ``PreferenceProfile``); recency,
money and sentiment come from a plain GROUP BY over the events; opted-out shoppers are dropped
once per shopper at the end. Sums of floats may differ from the Python twin in the last bits
only (the order of addition). Removed interests are stripped after the write
(``STRIP_REMOVED``), in the same transaction. ``UPSERT_REPLACE`` writes those rows as they are
(full rebuild, one shopper), skipping profiles that would not change; ``UPSERT_ADD`` adds them
to what is stored (incremental build).
Raw affinity scores, counts and sums add up, first/last times take LEAST/GREATEST and intents
keep the latest expiry, so adding batch after batch gives the same profile as one full pass.
The Python twin of this logic (SQLite, and a cross-check in the tests) is
``personalization.building.aggregate_python``; keep the two in step.
"""

# The events a build reads: the committed id range of known shoppers (optionally one). Shoppers
# who turned personalization off are dropped once per shopper at the end (``AGGREGATE``), not
# once per event: a per-event NOT EXISTS was a million-loop anti join (issue 15).
EVENT_FILTER = """
    e.id > %(lo)s AND e.id <= %(hi)s AND e.user_id IS NOT NULL {user_filter}
"""

# 1. One pass over the events that carry a weight and a product: the decayed weight once per
#    event.
#    An UNLOGGED table, not a temporary one, so that parallel workers can read it (AFFINITIES);
#    its name carries the backend's pid (``{ev}``): made and dropped in the build's transaction,
#    no other session ever sees it.
WEIGHTED_EVENTS = """
CREATE UNLOGGED TABLE {ev} AS
SELECT e.user_id, e.product_id,
       CASE WHEN jsonb_exists(e.attributes, 'variant')
                 AND e.attributes ->> 'variant' ~ '^[0-9]{{1,18}}$'
            THEN (e.attributes ->> 'variant')::bigint ELSE 0 END AS variant_id,
       w.weight * exp(0.6931471805599453
           * (date_part('epoch', e.occurred_at) - %(epoch)s) / %(half_life)s) AS w
FROM personalization_event e
JOIN (SELECT key AS kind, value::float8 AS weight FROM jsonb_each(%(weights)s::jsonb)) AS w
  ON w.kind = e.kind
WHERE e.product_id IS NOT NULL AND {event_filter}
"""

# 2. The attribute keys of each (product, variant) that occurs, as their ids in the key
#    dictionary (new keys are added to it): small integers sort and compare faster than
#    strings and are what the profile stores. A (product, variant) has at most one key per slot.
PAIR_KEYS = """
CREATE TEMPORARY TABLE pz_keys ON COMMIT DROP AS
SELECT pv.product_id, pv.variant_id, d.slot, d.k
FROM (SELECT DISTINCT product_id, variant_id FROM {ev}) AS pv
JOIN shop_product p ON p.id = pv.product_id
LEFT JOIN shop_variant v ON v.id = pv.variant_id
CROSS JOIN LATERAL (VALUES
    (1, 'category:' || p.category_id),
    (2, 'brand:' || p.brand_id),
    (3, 'colour:' || lower(coalesce(nullif(v.colour, ''), nullif(p.colour, '')))),
    (4, 'size:' || lower(nullif(v.size, ''))),
    (5, 'style:' || lower(nullif(p.style, ''))),
    (6, 'price_band:' || CASE WHEN p.price < 25 THEN 'budget' WHEN p.price < 75 THEN 'mid'
                              WHEN p.price < 200 THEN 'premium' ELSE 'luxury' END)
) AS d(slot, k)
WHERE d.k IS NOT NULL
"""

# Only the keys not there yet are offered (each offer takes a number of the id sequence, even
# when ON CONFLICT drops it); a key another transaction adds meanwhile is settled by the unique
# constraint. Rows are never changed or deleted, so every id keeps its meaning.
INTEREST_KEYS = """
INSERT INTO personalization_interestkey (key)
SELECT n.k FROM (SELECT DISTINCT k FROM pz_keys) AS n
WHERE NOT EXISTS (SELECT 1 FROM personalization_interestkey i WHERE i.key = n.k)
ORDER BY n.k COLLATE "C"
ON CONFLICT (key) DO NOTHING
"""

PAIR_CODES = """
CREATE UNLOGGED TABLE {pc} AS
SELECT pk.product_id, pk.variant_id,
       max(i.id) FILTER (WHERE slot = 1) AS c1, max(i.id) FILTER (WHERE slot = 2) AS c2,
       max(i.id) FILTER (WHERE slot = 3) AS c3, max(i.id) FILTER (WHERE slot = 4) AS c4,
       max(i.id) FILTER (WHERE slot = 5) AS c5, max(i.id) FILTER (WHERE slot = 6) AS c6
FROM pz_keys pk JOIN personalization_interestkey i ON i.key = pk.k
GROUP BY pk.product_id, pk.variant_id
"""

# 3. The affinity arrays of each shopper. The weighted events are sorted by shopper once; each
#    shopper's (key, score) pairs are then summed by an incremental sort of that shopper's few
#    rows and gathered into two arrays: the key ids and, at the same positions, the raw scores
#    (both aggregates read the same rows in the same order). Run with hash aggregation off: one
#    hash table of 3,000,000 (shopper, key) groups, or six of one per slot, cost 1.5-2x more
#    CPU than this streaming plan (cache misses; issue 15).
#    The shoppers are split in ``parts`` by id, one call of AFFINITY_PART_FUNCTION each, under
#    a Parallel Append: each parallel worker aggregates whole shoppers (PostgreSQL 15 has no
#    partial array_agg, so a plain parallel plan would leave the per-shopper grouping to the
#    leader). Without free workers the leader runs the parts itself, one after the other.
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

AFFINITIES = """
CREATE TEMPORARY TABLE pz_aff ON COMMIT DROP AS
{parts}
"""
AFFINITY_PART = "SELECT * FROM personalization_affinity_part({part}, {parts}, '{ev}', '{pc}')"

# 4. Recency, frequency, money and sentiment: a plain GROUP BY over the events (its own
#    statement so that PostgreSQL may run it with parallel workers; the intents below call a
#    PARALLEL UNSAFE function).
STATS = """
CREATE TEMPORARY TABLE pz_stats ON COMMIT DROP AS
SELECT e.user_id, count(*)::int AS event_count, min(e.occurred_at) AS first_event_at,
       max(e.occurred_at) AS last_event_at,
       coalesce(sum(e.value) FILTER (WHERE e.kind = 'purchase'), 0) AS monetary,
       max(e.occurred_at) FILTER (WHERE e.kind = 'purchase') AS last_purchase_at,
       min(e.occurred_at) FILTER (WHERE e.kind = 'purchase') AS first_purchase_at,
       coalesce(sum(x.sentiment), 0) AS sentiment_sum,
       count(x.sentiment)::int AS sentiment_count
FROM personalization_event e
CROSS JOIN LATERAL (SELECT
    CASE WHEN e.kind = 'text_signal'
              AND jsonb_typeof(e.attributes -> 'sentiment') = 'number'
         THEN greatest(-1, least(1, (e.attributes -> 'sentiment')::numeric))::float8
         END AS sentiment) AS x
WHERE {event_filter}
GROUP BY e.user_id
"""

# 5. One row per shopper whose personalization is on: stats, orders, affinities and intents.
AGGREGATE = """
CREATE TEMPORARY TABLE pz_agg ON COMMIT DROP AS
WITH orders AS (
    SELECT user_id, count(*) AS order_count FROM (
        SELECT DISTINCT e.user_id, coalesce(e.attributes ->> 'order', '#' || e.id) AS o
        FROM personalization_event e
        WHERE e.kind = 'purchase' AND {event_filter}
    ) AS o GROUP BY user_id
), intents AS (
    SELECT user_id, jsonb_object_agg(k, expires) AS intents FROM (
        SELECT e.user_id,
               lower(left(e.attributes ->> 'intent', 40)) || ':' || CASE
                   WHEN e.attributes ->> 'category_id' ~ '^[0-9]{{1,9}}$'
                   THEN (e.attributes ->> 'category_id')::int::text ELSE '' END AS k,
               max(floor(date_part('epoch', coalesce(
                   personalization_safe_timestamptz(e.attributes ->> 'expires_at'),
                   e.occurred_at + make_interval(days => %(intent_ttl_days)s)
               )))::bigint) AS expires
        FROM personalization_event e
        WHERE e.kind = 'text_signal' AND jsonb_typeof(e.attributes -> 'intent') = 'string'
          AND e.attributes ->> 'intent' <> '' AND {event_filter}
        GROUP BY 1, 2
    ) AS i GROUP BY user_id
)
SELECT s.*, coalesce(orders.order_count, 0) AS order_count,
       coalesce(pz_aff.affinity_ids, '{{}}') AS affinity_ids,
       coalesce(pz_aff.affinity_raw, '{{}}') AS affinity_raw,
       coalesce(intents.intents, '{{}}'::jsonb) AS intents
FROM pz_stats s
LEFT JOIN pz_aff USING (user_id)
LEFT JOIN orders USING (user_id)
LEFT JOIN intents USING (user_id)
WHERE NOT EXISTS (
    SELECT 1 FROM personalization_shopperchoice c
    WHERE c.user_id = s.user_id AND NOT c.personalization_enabled
)
"""

# The statements, in order, that leave the aggregates in ``pz_agg``; each is formatted with
# ``event_filter`` and run with the same parameters. AFFINITIES runs with hash aggregation off.
STEPS = (WEIGHTED_EVENTS, PAIR_KEYS, INTEREST_KEYS, PAIR_CODES, AFFINITIES, STATS, AGGREGATE)
DROP_STAGING = "DROP TABLE IF EXISTS {ev}, pz_keys, {pc}, pz_aff, pz_stats, pz_agg"
# The two UNLOGGED tables, dropped as soon as AFFINITIES has read them.
DROP_SHARED_STAGING = "DROP TABLE {ev}, {pc}"

UPSERT_REPLACE = """
INSERT INTO personalization_preferenceprofile AS p (
    user_id, affinity_ids, affinity_raw, event_count, first_event_at, last_event_at, order_count,
    monetary, last_purchase_at, first_purchase_at, sentiment_sum, sentiment_count, intents,
    demographics, updated_at)
SELECT user_id, affinity_ids, affinity_raw, event_count, first_event_at, last_event_at, order_count,
    monetary, last_purchase_at, first_purchase_at, sentiment_sum, sentiment_count, intents,
    '{}'::jsonb, now()
FROM pz_agg
ON CONFLICT (user_id) DO UPDATE SET
    affinity_ids = EXCLUDED.affinity_ids, affinity_raw = EXCLUDED.affinity_raw,
    event_count = EXCLUDED.event_count,
    first_event_at = EXCLUDED.first_event_at, last_event_at = EXCLUDED.last_event_at,
    order_count = EXCLUDED.order_count, monetary = EXCLUDED.monetary,
    last_purchase_at = EXCLUDED.last_purchase_at, first_purchase_at = EXCLUDED.first_purchase_at,
    sentiment_sum = EXCLUDED.sentiment_sum, sentiment_count = EXCLUDED.sentiment_count,
    intents = EXCLUDED.intents, updated_at = EXCLUDED.updated_at
-- a profile the rebuild leaves as it was is not written again (no dead row, no WAL): a nightly
-- full build over mostly unchanged shoppers writes only the few that changed
WHERE (p.affinity_ids, p.affinity_raw, p.event_count, p.first_event_at, p.last_event_at,
       p.order_count, p.monetary, p.last_purchase_at, p.first_purchase_at, p.sentiment_sum,
       p.sentiment_count, p.intents)
    IS DISTINCT FROM
      (EXCLUDED.affinity_ids, EXCLUDED.affinity_raw, EXCLUDED.event_count,
       EXCLUDED.first_event_at, EXCLUDED.last_event_at, EXCLUDED.order_count,
       EXCLUDED.monetary, EXCLUDED.last_purchase_at, EXCLUDED.first_purchase_at,
       EXCLUDED.sentiment_sum, EXCLUDED.sentiment_count, EXCLUDED.intents)
"""

UPSERT_ADD = """
INSERT INTO personalization_preferenceprofile AS p (
    user_id, affinity_ids, affinity_raw, event_count, first_event_at, last_event_at, order_count,
    monetary, last_purchase_at, first_purchase_at, sentiment_sum, sentiment_count, intents,
    demographics, updated_at)
SELECT user_id, affinity_ids, affinity_raw, event_count, first_event_at, last_event_at, order_count,
    monetary, last_purchase_at, first_purchase_at, sentiment_sum, sentiment_count, intents,
    '{}'::jsonb, now()
FROM pz_agg
ON CONFLICT (user_id) DO UPDATE SET
    -- the scores of a key in both add up (stored + new, as the Python twin), new keys go at the
    -- end: AFFINITY_ADD_FUNCTION, once per row (OFFSET 0 keeps the planner from calling it once
    -- per column). ~10 us a profile against ~30 us for the set-returning merge it replaces
    -- (see the function)
    (affinity_ids, affinity_raw) = (
        SELECT (m).affinity_ids, (m).affinity_raw
        FROM (SELECT personalization_affinity_add(p.affinity_ids, p.affinity_raw,
                                                  EXCLUDED.affinity_ids, EXCLUDED.affinity_raw)
              AS m OFFSET 0) AS s),
    event_count = p.event_count + EXCLUDED.event_count,
    first_event_at = least(p.first_event_at, EXCLUDED.first_event_at),
    last_event_at = greatest(p.last_event_at, EXCLUDED.last_event_at),
    order_count = p.order_count + EXCLUDED.order_count,
    monetary = p.monetary + EXCLUDED.monetary,
    last_purchase_at = greatest(p.last_purchase_at, EXCLUDED.last_purchase_at),
    first_purchase_at = least(p.first_purchase_at, EXCLUDED.first_purchase_at),
    sentiment_sum = p.sentiment_sum + EXCLUDED.sentiment_sum,
    sentiment_count = p.sentiment_count + EXCLUDED.sentiment_count,
    -- most batches bring no intent: skip the merge (a sub-select per row) for them
    intents = CASE WHEN EXCLUDED.intents = '{}'::jsonb THEN p.intents ELSE p.intents || coalesce((
        SELECT jsonb_object_agg(
            key, greatest(value::bigint, coalesce((p.intents ->> key)::bigint, 0)))
        FROM jsonb_each(EXCLUDED.intents)), '{}'::jsonb) END,
    updated_at = EXCLUDED.updated_at
"""

# The affinity merge of UPSERT_ADD (created by migration 0010): the stored arrays with each
# added key's score added at its position (stored + added: the Python twin's ``_add`` order),
# and the keys not stored yet appended in the order given. Each id stays once if each input
# holds it once. A loop over the few added keys (~5 a shopper in a batch of 10,000 events),
# each found with array_position in the stored ~30: measured on 9,500 profiles (bench data,
# backend CPU of the upsert) 0.21 s against 0.34-0.39 s for the per-row sub-select that
# unnested both arrays and grouped by id, and 0.08-0.09 s for the upsert that replaces the
# arrays without merging; the sub-select with unnest in the select list 0.30 s, two plpgsql
# functions (ids, scores) 0.24-0.27 s.
AFFINITY_ADD_FUNCTION = """
CREATE OR REPLACE FUNCTION personalization_affinity_add(
    ids int[], raw float8[], add_ids int[], add_raw float8[],
    OUT affinity_ids int[], OUT affinity_raw float8[])
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    i int;
    pos int;
BEGIN
    affinity_ids := coalesce(ids, '{}');
    affinity_raw := coalesce(raw, '{}');
    FOR i IN 1 .. coalesce(cardinality(add_ids), 0) LOOP
        pos := array_position(affinity_ids, add_ids[i]);
        IF pos IS NULL THEN
            affinity_ids := affinity_ids || add_ids[i];
            affinity_raw := affinity_raw || add_raw[i];
        ELSE
            affinity_raw[pos] := affinity_raw[pos] + add_raw[i];
        END IF;
    END LOOP;
END $$;
"""

# After writing, honour choices that were committed while the build was running. Only the rows
# this build wrote can hold a removed interest again, and the few shoppers who removed one lead:
# the statement never scans the profile table.
STRIP_REMOVED = """
UPDATE personalization_preferenceprofile AS p
SET (affinity_ids, affinity_raw) = (
    SELECT coalesce(array_agg(a.id ORDER BY a.n), '{}'),
           coalesce(array_agg(a.raw ORDER BY a.n), '{}')
    FROM unnest(p.affinity_ids, p.affinity_raw) WITH ORDINALITY AS a(id, raw, n)
    WHERE a.id NOT IN (
        SELECT i.id FROM personalization_removedinterest r
        JOIN personalization_interestkey i ON i.key = r.dimension || ':' || r.value
        WHERE r.user_id = p.user_id))
WHERE p.user_id IN (
    SELECT DISTINCT r.user_id FROM personalization_removedinterest r
    JOIN pz_agg a ON a.user_id = r.user_id)
  AND EXISTS (
    SELECT 1 FROM personalization_removedinterest r
    JOIN personalization_interestkey i ON i.key = r.dimension || ':' || r.value
    WHERE r.user_id = p.user_id AND i.id = ANY (p.affinity_ids))
"""
DELETE_OPTED_OUT = """
DELETE FROM personalization_preferenceprofile AS p USING personalization_shopperchoice c
WHERE c.user_id = p.user_id AND NOT c.personalization_enabled RETURNING p.user_id
"""

SAFE_TIMESTAMPTZ_FUNCTION = """
CREATE OR REPLACE FUNCTION personalization_safe_timestamptz(value text)
RETURNS timestamptz LANGUAGE plpgsql STABLE PARALLEL UNSAFE AS $$
BEGIN
    IF value IS NULL OR length(value) > 40 THEN RETURN NULL; END IF;
    RETURN value::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
"""

# A full rebuild keeps consented demographics but clears what no longer comes from events.
ZERO_NOT_BUILT = """
UPDATE personalization_preferenceprofile AS p SET
    affinity_ids = '{}', affinity_raw = '{}', event_count = 0, first_event_at = NULL,
    last_event_at = NULL, order_count = 0, monetary = 0, last_purchase_at = NULL,
    first_purchase_at = NULL, sentiment_sum = 0, sentiment_count = 0, intents = '{}'::jsonb,
    updated_at = now()
WHERE NOT EXISTS (SELECT 1 FROM pz_agg a WHERE a.user_id = p.user_id)
"""
