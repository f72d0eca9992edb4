"""PostgreSQL statements of the profile build (set-based: no Python loop per event).

``STEPS`` fold the events ``lo < id <= hi`` (optionally of one shopper) into one row per
shopper in the temporary table ``pz_agg``, through small staging tables (``pz_ev`` weighted
events, ``pz_keys``/``pz_pc`` attribute codes, ``pz_aff`` affinity objects, ``pz_stats``),
all dropped at commit; ``building.aggregate_sql`` runs them. Measured with EXPLAIN (ANALYZE,
BUFFERS) and the backend's CPU time on 1,000,000 events (issue 15): the affinity object is
the cost (3,000,000 (shopper, key) scores written as JSON); the opt-out NOT EXISTS per event
was a million-loop anti join. So: the decayed weight is computed once per weighted event;
each product's attribute keys become small integer codes; the (shopper, key) sums stream from
the events sorted by shopper once (an incremental sort of each shopper's few rows, no hash
table of millions of groups); the affinity object is written as JSON text from pre-quoted
keys and parsed once (``jsonb_object_agg`` costs as much or more); recency, money and
sentiment come from a plain GROUP BY over the events; opted-out shoppers are dropped once per
shopper at the end. Sums of floats may differ from the Python twin in the last bits only (the
order of addition). Removed interests are stripped after the write (``STRIP_REMOVED``), in the
same transaction. ``UPSERT_REPLACE`` writes those rows as they are (full rebuild, one
shopper), skipping profiles that would not change; ``UPSERT_ADD`` adds them to what is stored
(incremental build).
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
WEIGHTED_EVENTS = """
CREATE TEMPORARY TABLE pz_ev ON COMMIT DROP AS
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

# 2. The attribute keys of each (product, variant) that occurs, numbered: small integer codes
#    sort and compare faster than strings. A (product, variant) has at most one key per slot.
PAIR_KEYS = """
CREATE TEMPORARY TABLE pz_keys ON COMMIT DROP AS
SELECT pv.product_id, pv.variant_id, d.slot, d.k,
       (dense_rank() OVER (ORDER BY d.k COLLATE "C"))::int AS code
FROM (SELECT DISTINCT product_id, variant_id FROM pz_ev) AS pv
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

PAIR_CODES = """
CREATE TEMPORARY TABLE pz_pc ON COMMIT DROP AS
SELECT product_id, variant_id,
       max(code) FILTER (WHERE slot = 1) AS c1, max(code) FILTER (WHERE slot = 2) AS c2,
       max(code) FILTER (WHERE slot = 3) AS c3, max(code) FILTER (WHERE slot = 4) AS c4,
       max(code) FILTER (WHERE slot = 5) AS c5, max(code) FILTER (WHERE slot = 6) AS c6
FROM pz_keys GROUP BY product_id, variant_id
"""

# 3. The affinity object of each shopper. The weighted events are sorted by shopper once; each
#    shopper's (key, score) pairs are then summed by an incremental sort of that shopper's few
#    rows and written as JSON text from the pre-quoted keys (``kts[code]``), parsed once. Run
#    with hash aggregation off: one hash table of 3,000,000 (shopper, key) groups, or six of
#    one per slot, cost 1.5-2x more CPU than this streaming plan (cache misses; issue 15).
#    float8 prints its shortest exact digits, as jsonb_object_agg would store them.
AFFINITIES = """
CREATE TEMPORARY TABLE pz_aff ON COMMIT DROP AS
SELECT a.user_id, ('{{' || string_agg(k.kts[a.code] || a.raw::text, ',') || '}}')::jsonb
           AS affinities
FROM (
    SELECT x.user_id, d.code, sum(x.w) AS raw
    FROM (
        SELECT ev.user_id, ev.w, pc.c1, pc.c2, pc.c3, pc.c4, pc.c5, pc.c6
        FROM pz_ev ev JOIN pz_pc pc USING (product_id, variant_id)
        ORDER BY ev.user_id
    ) AS x
    CROSS JOIN LATERAL (VALUES (x.c1), (x.c2), (x.c3), (x.c4), (x.c5), (x.c6)) AS d(code)
    WHERE d.code IS NOT NULL
    GROUP BY x.user_id, d.code
) AS a
CROSS JOIN (
    SELECT array_agg(to_json(k)::text || ':' ORDER BY code) AS kts
    FROM (SELECT DISTINCT code, k FROM pz_keys) AS c
) AS k
GROUP BY a.user_id
"""

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
       coalesce(pz_aff.affinities, '{{}}'::jsonb) AS affinities,
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
STEPS = (WEIGHTED_EVENTS, PAIR_KEYS, PAIR_CODES, AFFINITIES, STATS, AGGREGATE)
DROP_STAGING = "DROP TABLE IF EXISTS pz_ev, pz_keys, pz_pc, pz_aff, pz_stats, pz_agg"

UPSERT_REPLACE = """
INSERT INTO personalization_preferenceprofile AS p (
    user_id, affinities, event_count, first_event_at, last_event_at, order_count,
    monetary, last_purchase_at, first_purchase_at, sentiment_sum, sentiment_count, intents,
    demographics, updated_at)
SELECT user_id, affinities, event_count, first_event_at, last_event_at, order_count,
    monetary, last_purchase_at, first_purchase_at, sentiment_sum, sentiment_count, intents,
    '{}'::jsonb, now()
FROM pz_agg
ON CONFLICT (user_id) DO UPDATE SET
    affinities = EXCLUDED.affinities, event_count = EXCLUDED.event_count,
    first_event_at = EXCLUDED.first_event_at, last_event_at = EXCLUDED.last_event_at,
    order_count = EXCLUDED.order_count, monetary = EXCLUDED.monetary,
    last_purchase_at = EXCLUDED.last_purchase_at, first_purchase_at = EXCLUDED.first_purchase_at,
    sentiment_sum = EXCLUDED.sentiment_sum, sentiment_count = EXCLUDED.sentiment_count,
    intents = EXCLUDED.intents, updated_at = EXCLUDED.updated_at
-- a profile the rebuild leaves as it was is not written again (no dead row, no WAL): a nightly
-- full build over mostly unchanged shoppers writes only the few that changed
WHERE (p.affinities, p.event_count, p.first_event_at, p.last_event_at, p.order_count,
       p.monetary, p.last_purchase_at, p.first_purchase_at, p.sentiment_sum, p.sentiment_count,
       p.intents)
    IS DISTINCT FROM
      (EXCLUDED.affinities, EXCLUDED.event_count, EXCLUDED.first_event_at, EXCLUDED.last_event_at,
       EXCLUDED.order_count, EXCLUDED.monetary, EXCLUDED.last_purchase_at,
       EXCLUDED.first_purchase_at, EXCLUDED.sentiment_sum, EXCLUDED.sentiment_count,
       EXCLUDED.intents)
"""

UPSERT_ADD = """
INSERT INTO personalization_preferenceprofile AS p (
    user_id, affinities, event_count, first_event_at, last_event_at, order_count,
    monetary, last_purchase_at, first_purchase_at, sentiment_sum, sentiment_count, intents,
    demographics, updated_at)
SELECT user_id, affinities, event_count, first_event_at, last_event_at, order_count,
    monetary, last_purchase_at, first_purchase_at, sentiment_sum, sentiment_count, intents,
    '{}'::jsonb, now()
FROM pz_agg
ON CONFLICT (user_id) DO UPDATE SET
    -- only the new keys are visited; || keeps the others as they are
    affinities = p.affinities || coalesce((
        SELECT jsonb_object_agg(
            key, value::float8 + coalesce((p.affinities ->> key)::float8, 0))
        FROM jsonb_each(EXCLUDED.affinities)), '{}'::jsonb),
    event_count = p.event_count + EXCLUDED.event_count,
    first_event_at = least(p.first_event_at, EXCLUDED.first_event_at),
    last_event_at = greatest(p.last_event_at, EXCLUDED.last_event_at),
    order_count = p.order_count + EXCLUDED.order_count,
    monetary = p.monetary + EXCLUDED.monetary,
    last_purchase_at = greatest(p.last_purchase_at, EXCLUDED.last_purchase_at),
    first_purchase_at = least(p.first_purchase_at, EXCLUDED.first_purchase_at),
    sentiment_sum = p.sentiment_sum + EXCLUDED.sentiment_sum,
    sentiment_count = p.sentiment_count + EXCLUDED.sentiment_count,
    intents = p.intents || coalesce((
        SELECT jsonb_object_agg(
            key, greatest(value::bigint, coalesce((p.intents ->> key)::bigint, 0)))
        FROM jsonb_each(EXCLUDED.intents)), '{}'::jsonb),
    updated_at = EXCLUDED.updated_at
"""

# After writing, honour choices that were committed while the build was running. Only the rows
# this build wrote can hold a removed interest again, and the few shoppers who removed one lead:
# the statement never scans the profile table.
STRIP_REMOVED = """
UPDATE personalization_preferenceprofile AS p
SET affinities = p.affinities - ARRAY(
    SELECT r.dimension || ':' || r.value FROM personalization_removedinterest r
    WHERE r.user_id = p.user_id)
WHERE p.user_id IN (
    SELECT DISTINCT r.user_id FROM personalization_removedinterest r
    JOIN pz_agg a ON a.user_id = r.user_id)
  AND EXISTS (
    SELECT 1 FROM personalization_removedinterest r
    WHERE r.user_id = p.user_id AND p.affinities ? (r.dimension || ':' || r.value))
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
    affinities = '{}'::jsonb, event_count = 0, first_event_at = NULL, last_event_at = NULL,
    order_count = 0, monetary = 0, last_purchase_at = NULL, first_purchase_at = NULL,
    sentiment_sum = 0, sentiment_count = 0, intents = '{}'::jsonb, updated_at = now()
WHERE NOT EXISTS (SELECT 1 FROM pz_agg a WHERE a.user_id = p.user_id)
"""
