"""PostgreSQL statements of the profile build (set-based: no Python loop per event).

``AGGREGATE`` folds the events ``lo < id <= hi`` (optionally of one shopper) into one row per
shopper in the temporary table ``pz_agg``. ``UPSERT_REPLACE`` writes those rows as they are
(full rebuild, one shopper); ``UPSERT_ADD`` adds them to what is stored (incremental build).
Raw affinity scores, counts and sums add up, first/last times take LEAST/GREATEST and intents
keep the latest expiry, so adding batch after batch gives the same profile as one full pass.
The Python twin of this logic (SQLite, and a cross-check in the tests) is
``personalization.building.aggregate_python``; keep the two in step.
"""

# The events a build reads: the committed id range, a known shopper whose personalization is on.
EVENT_FILTER = """
    e.id > %(lo)s AND e.id <= %(hi)s AND e.user_id IS NOT NULL {user_filter}
    AND NOT EXISTS (
        SELECT 1 FROM personalization_shopperchoice c
        WHERE c.user_id = e.user_id AND NOT c.personalization_enabled
    )
"""

AGGREGATE = """
CREATE TEMPORARY TABLE pz_agg ON COMMIT DROP AS
WITH weights AS (
    SELECT key AS kind, value::float8 AS weight FROM jsonb_each(%(weights)s::jsonb)
), aff AS (
    SELECT e.user_id, d.k,
           sum(w.weight * power(2::float8,
               extract(epoch FROM (e.occurred_at - %(epoch)s::timestamptz))::float8
               / %(half_life)s)) AS raw
    FROM personalization_event e
    JOIN weights w ON w.kind = e.kind
    JOIN shop_product p ON p.id = e.product_id
    LEFT JOIN shop_variant v ON v.id = CASE
        WHEN e.attributes ->> 'variant' ~ '^[0-9]{{1,18}}$'
        THEN (e.attributes ->> 'variant')::bigint END
    CROSS JOIN LATERAL (VALUES
        ('category:' || p.category_id),
        ('brand:' || p.brand_id),
        ('colour:' || lower(coalesce(nullif(v.colour, ''), nullif(p.colour, '')))),
        ('size:' || lower(nullif(v.size, ''))),
        ('style:' || lower(nullif(p.style, ''))),
        ('price_band:' || CASE WHEN p.price < 25 THEN 'budget' WHEN p.price < 75 THEN 'mid'
                               WHEN p.price < 200 THEN 'premium' ELSE 'luxury' END)
    ) AS d(k)
    WHERE {event_filter} AND d.k IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM personalization_removedinterest r
        WHERE r.user_id = e.user_id AND r.dimension || ':' || r.value = d.k
      )
    GROUP BY e.user_id, d.k
), aff_user AS (
    SELECT user_id, jsonb_object_agg(k, raw) AS affinities FROM aff GROUP BY user_id
), stats AS (
    SELECT e.user_id,
           count(*) AS event_count,
           min(e.occurred_at) AS first_event_at,
           max(e.occurred_at) AS last_event_at,
           coalesce(sum(e.value) FILTER (WHERE e.kind = 'purchase'), 0) AS monetary,
           max(e.occurred_at) FILTER (WHERE e.kind = 'purchase') AS last_purchase_at,
           min(e.occurred_at) FILTER (WHERE e.kind = 'purchase') AS first_purchase_at,
           coalesce(sum(s.sentiment), 0) AS sentiment_sum,
           count(s.sentiment) AS sentiment_count
    FROM personalization_event e
    CROSS JOIN LATERAL (SELECT CASE
        WHEN e.kind = 'text_signal' AND jsonb_typeof(e.attributes -> 'sentiment') = 'number'
        THEN greatest(-1, least(1, (e.attributes -> 'sentiment')::numeric))::float8
        END AS sentiment) AS s
    WHERE {event_filter}
    GROUP BY e.user_id
), orders AS (
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
               max(floor(extract(epoch FROM coalesce(
                   personalization_safe_timestamptz(e.attributes ->> 'expires_at'),
                   e.occurred_at + make_interval(days => %(intent_ttl_days)s)
               )))::bigint) AS expires
        FROM personalization_event e
        WHERE e.kind = 'text_signal' AND jsonb_typeof(e.attributes -> 'intent') = 'string'
          AND e.attributes ->> 'intent' <> '' AND {event_filter}
        GROUP BY 1, 2
    ) AS i GROUP BY user_id
)
SELECT stats.*, coalesce(orders.order_count, 0) AS order_count,
       coalesce(aff_user.affinities, '{{}}'::jsonb) AS affinities,
       coalesce(intents.intents, '{{}}'::jsonb) AS intents
FROM stats
LEFT JOIN aff_user USING (user_id)
LEFT JOIN orders USING (user_id)
LEFT JOIN intents USING (user_id)
"""

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
    affinities = (
        SELECT coalesce(jsonb_object_agg(key, total), '{}'::jsonb) FROM (
            SELECT key, sum(value::float8) AS total FROM (
                SELECT key, value FROM jsonb_each(p.affinities)
                UNION ALL SELECT key, value FROM jsonb_each(EXCLUDED.affinities)
            ) AS both_maps GROUP BY key
        ) AS summed),
    event_count = p.event_count + EXCLUDED.event_count,
    first_event_at = least(p.first_event_at, EXCLUDED.first_event_at),
    last_event_at = greatest(p.last_event_at, EXCLUDED.last_event_at),
    order_count = p.order_count + EXCLUDED.order_count,
    monetary = p.monetary + EXCLUDED.monetary,
    last_purchase_at = greatest(p.last_purchase_at, EXCLUDED.last_purchase_at),
    first_purchase_at = least(p.first_purchase_at, EXCLUDED.first_purchase_at),
    sentiment_sum = p.sentiment_sum + EXCLUDED.sentiment_sum,
    sentiment_count = p.sentiment_count + EXCLUDED.sentiment_count,
    intents = (
        SELECT coalesce(jsonb_object_agg(key, latest), '{}'::jsonb) FROM (
            SELECT key, max(value::bigint) AS latest FROM (
                SELECT key, value FROM jsonb_each(p.intents)
                UNION ALL SELECT key, value FROM jsonb_each(EXCLUDED.intents)
            ) AS both_maps GROUP BY key
        ) AS merged),
    updated_at = EXCLUDED.updated_at
"""

# After writing, honour choices that were committed while the build was running.
STRIP_REMOVED = """
UPDATE personalization_preferenceprofile AS p
SET affinities = p.affinities - ARRAY(
    SELECT r.dimension || ':' || r.value FROM personalization_removedinterest r
    WHERE r.user_id = p.user_id)
WHERE EXISTS (
    SELECT 1 FROM personalization_removedinterest r
    WHERE r.user_id = p.user_id AND p.affinities ? (r.dimension || ':' || r.value))
"""
DELETE_OPTED_OUT = """
DELETE FROM personalization_preferenceprofile AS p USING personalization_shopperchoice c
WHERE c.user_id = p.user_id AND NOT c.personalization_enabled RETURNING p.user_id
"""

SAFE_TIMESTAMPTZ_FUNCTION = """
CREATE OR REPLACE FUNCTION personalization_safe_timestamptz(value text)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
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
