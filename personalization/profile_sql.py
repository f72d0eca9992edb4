"""PostgreSQL statements of the profile build (set-based: no Python loop per event).

``STEPS`` fold the events ``lo < id <= hi`` (optionally of one shopper) into one row per shopper
in the temporary table ``pz_agg``, through small staging tables (``pz_ev`` staged events,
``pz_keys``/``pz_pc`` attribute keys and their ids in the ``InterestKey`` dictionary,
``pz_in`` the text signals' intents per shopper), all dropped at commit;
``building.aggregate_sql`` runs them. The only lasting write is the dictionary rows of keys
never met before. Measured with EXPLAIN (ANALYZE, BUFFERS) and the backend's CPU time on
1,000,000 events (issue 15): the affinities are the cost (3,000,000 (shopper, key) scores); the
opt-out NOT EXISTS per event was a million-loop anti join. So: the decayed weight is computed
once per weighted event; each product's attribute keys become their small integer ids in the key
dictionary; the (shopper, key) sums stream from the events sorted by shopper once (an
incremental sort of each shopper's few rows, no hash table of millions of groups); each
shopper's affinities are two arrays (key ids, raw scores): writing them as a JSON object instead
(text from pre-quoted keys parsed once, or ``jsonb_object_agg``) cost 2.4 s of backend CPU more
than the grouping (2.0 s) itself, the arrays 0.1 s (the profile stores the arrays, see
``PreferenceProfile``); recency, money and sentiment come from a hash GROUP BY over the staged
events, in the same parallel function as the affinities; opted-out shoppers are dropped once per
shopper at the end. Sums of floats may differ from the Python twin in the last bits only (the
order of addition), but two SQL builds over the same events agree to the bit. Removed interests
are stripped after the write (``STRIP_REMOVED``), in the same transaction. A full rebuild
compares each shopper's row with the stored profile while it aggregates (``_PART_COMPARED``),
then ``FULL_CHANGED``/``FULL_NEW``/``FULL_CLEARED`` write only those that change;
``REPLACE_CHANGED``/``REPLACE_NEW`` one shopper's; ``UPSERT_ADD`` adds them to what is stored
(incremental build). Raw affinity scores, counts and sums add up, first/last times take
LEAST/GREATEST and intents keep the latest expiry, so adding batch after batch gives the same
profile as one full pass. The Python twin of this logic (SQLite, and a cross-check in
the tests) is ``personalization.building.aggregate_python``; keep the two in step."""

# The events a build reads: the committed id range of known shoppers (optionally one). Shoppers
# who turned personalization off are dropped once per shopper at the end (``AGGREGATE``), not
# once per event: a per-event NOT EXISTS was a million-loop anti join (issue 15).
EVENT_FILTER = """
    e.id > %(lo)s AND e.id <= %(hi)s AND e.user_id IS NOT NULL {user_filter}
"""

# 1. One pass over the events: a narrow row per event with what the later steps need, the
#    decayed weight computed once per event (NULL when the kind has no weight or there is no
#    product), the purchase's value and order (NULL for other kinds) and the clamped sentiment
#    of a text signal (numeric, summed exactly). Every per-shopper sum then reads this table
#    instead of the event rows and their JSON.
#    An UNLOGGED table, not a temporary one, so that parallel workers can read it (AGGREGATE);
#    its name carries the backend's pid (``{ev}``): made and dropped in the build's transaction,
#    no other session ever sees it.
WEIGHTED_EVENTS = """
CREATE UNLOGGED TABLE {ev} AS
SELECT e.user_id, e.product_id,
       CASE WHEN w.weight IS NOT NULL AND jsonb_exists(e.attributes, 'variant')
                 AND e.attributes ->> 'variant' ~ '^[0-9]{{1,18}}$'
            THEN (e.attributes ->> 'variant')::bigint ELSE 0 END AS variant_id,
       CASE WHEN e.product_id IS NOT NULL THEN w.weight * exp(0.6931471805599453
           * (date_part('epoch', e.occurred_at) - %(epoch)s) / %(half_life)s) END AS w,
       e.occurred_at,
       CASE WHEN e.kind = 'purchase' THEN e.value END AS value,
       CASE WHEN e.kind = 'purchase'
            THEN coalesce(e.attributes ->> 'order', '#' || e.id) END AS order_key,
       CASE WHEN e.kind = 'text_signal'
                 AND jsonb_typeof(e.attributes -> 'sentiment') = 'number'
            THEN greatest(-1, least(1, (e.attributes -> 'sentiment')::numeric)) END AS sentiment
FROM personalization_event e
LEFT JOIN (SELECT key AS kind, value::float8 AS weight FROM jsonb_each(%(weights)s::jsonb)) AS w
  ON w.kind = e.kind
WHERE {event_filter}
"""

# 2. The attribute keys of each (product, variant) that occurs, as their ids in the key
#    dictionary (new keys are added to it): small integers sort and compare faster than
#    strings and are what the profile stores. A (product, variant) has at most one key per slot.
PAIR_KEYS = """
CREATE TEMPORARY TABLE pz_keys ON COMMIT DROP AS
SELECT pv.product_id, pv.variant_id, d.slot, d.k
FROM (SELECT DISTINCT product_id, variant_id FROM {ev} WHERE w IS NOT NULL) AS pv
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

# The event part of a profile: what the builds write (demographics and choices are not).
EVENT_COLUMNS = (
    "affinity_ids", "affinity_raw", "event_count", "first_event_at", "last_event_at",
    "order_count", "monetary", "last_purchase_at", "first_purchase_at", "sentiment_sum",
    "sentiment_count", "intents",
)  # fmt: skip


def _row(alias: str) -> str:
    return "(" + ", ".join(f"{alias}.{column}" for column in EVENT_COLUMNS) + ")"


_EMPTY_ROW = (
    "('{}'::int[], '{}'::float8[], 0, NULL::timestamptz, NULL::timestamptz, 0, 0::numeric, "
    "NULL::timestamptz, NULL::timestamptz, 0::float8, 0, '{}'::jsonb)"
)

# 3. Per shopper, in one function call per part of the shoppers (called by AGGREGATE): the
#    affinity arrays, recency, frequency, money, sentiment and intents, and (``compare``, a
#    full build) the kind of change against the stored profile (see ``_PART_COMPARED``;
#    otherwise NULL).
#    Affinities: the weighted events are sorted by shopper once; each shopper's (key, score)
#    pairs are then summed by an incremental sort of that shopper's few rows and gathered into
#    two arrays: the key ids and, at the same positions, the raw scores (both aggregates read
#    the same rows in the same order). The sort also orders each key's scores by value, so
#    they add up in the same order whatever the physical order of the events: two builds over
#    the same events give bit-identical profiles (floating-point addition is not associative),
#    which lets a full build skip the unchanged ones (``_PART_COMPARED``). The sorted input makes
#    both GROUP BYs streaming aggregates: one hash table of 3,000,000 (shopper, key) groups, or
#    six of one per slot, cost 1.5-2x more CPU than this (cache misses; issue 15).
#    Stats: a hash aggregate of the part's events; orders: the distinct orders of its purchases.
#    The shoppers are split in parts by ranges of ids holding about as many events each (from
#    the staged events' statistics; a range, unlike ``user_id % parts``, is a condition the
#    planner estimates right), one call of AFFINITY_PART_FUNCTION each, under
#    a Parallel Append: each parallel worker aggregates whole shoppers (PostgreSQL 15 has no
#    partial array_agg, so a plain parallel plan would leave the per-shopper grouping to the
#    leader). Without free workers the leader runs the parts itself, one after the other.
# The part's own statement (``format``: %1$s staged events, %2$s pair codes, %3$s intents;
# $1/$2 the range of shopper ids): the event part of each shopper's profile, in ``s``.
_PART_QUERY = """
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
        ), s AS (
            SELECT st.user_id, coalesce(aff.ids, '{}') AS affinity_ids,
                   coalesce(aff.raw, '{}') AS affinity_raw, st.event_count,
                   st.first_event_at, st.last_event_at, coalesce(od.order_count, 0) AS order_count,
                   st.monetary, st.last_purchase_at, st.first_purchase_at, st.sentiment_sum,
                   st.sentiment_count, coalesce(i.intents, '{}'::jsonb) AS intents
            FROM st LEFT JOIN aff ON aff.user_id = st.user_id
            LEFT JOIN od ON od.user_id = st.user_id
            LEFT JOIN %3$s i ON i.user_id = st.user_id
        )
"""
# Compared with the stored profiles of the same range (a full build): only what differs comes
# out, with its kind of change: ``new`` (no profile yet), ``changed``, ``cleared`` (no event
# any more, demographics kept) and ``empty`` (no event, no demographics: cleared too, then
# deleted after the demographics are refreshed unless they gained some). The comparison runs
# in the parallel workers, and a nightly build over mostly unchanged shoppers hands the leader
# almost no rows (the full join of the 100,000 profiles with a table of every shopper's row, in
# the leader after the aggregation, and that table's copy of the unchanged rows cost ~0.3 s
# more; issue 15).
_S_COLUMNS = ", ".join(f"s.{column}" for column in EVENT_COLUMNS)
_PART_COMPARED = f"""SELECT coalesce(s.user_id, p.user_id),
               CASE WHEN p.user_id IS NULL THEN 'new' WHEN s.user_id IS NOT NULL THEN 'changed'
                    WHEN p.demographics = '{{}}'::jsonb THEN 'empty' ELSE 'cleared' END,
               {_S_COLUMNS}
        FROM s FULL JOIN (
            SELECT * FROM personalization_preferenceprofile p
            WHERE p.user_id >= $1 AND p.user_id < $2
        ) AS p ON p.user_id = s.user_id
        WHERE p.user_id IS NULL
           OR (s.user_id IS NOT NULL AND {_row("p")} IS DISTINCT FROM {_row("s")})
           OR (s.user_id IS NULL
               AND (p.demographics = '{{}}'::jsonb OR {_row("p")} IS DISTINCT FROM {_EMPTY_ROW}))
"""  # noqa: S608 (constants only)
_PART_TYPES = (
    "int[]", "float8[]", "int", "timestamptz", "timestamptz", "int", "numeric", "timestamptz",
    "timestamptz", "float8", "int", "jsonb",
)  # fmt: skip
_PART_RETURNS = ", ".join(
    f"{column} {kind}" for column, kind in zip(EVENT_COLUMNS, _PART_TYPES, strict=True)
)

AFFINITY_PART_FUNCTION = f"""
CREATE OR REPLACE FUNCTION personalization_shopper_part(
    from_user bigint, to_user bigint, staged_events regclass, pair_codes regclass,
    intent_table regclass, compare boolean)
RETURNS TABLE (user_id int, change text, {_PART_RETURNS})
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
    q text := format($q${_PART_QUERY}$q$, staged_events, pair_codes, intent_table);
BEGIN
    IF compare THEN
        RETURN QUERY EXECUTE q || $q${_PART_COMPARED}$q$ USING from_user, to_user;
    ELSE
        RETURN QUERY EXECUTE q || $q$SELECT s.user_id, NULL::text, {_S_COLUMNS} FROM s$q$
            USING from_user, to_user;
    END IF;
END $fn$;
"""  # noqa: S608 (constants only)

AFFINITY_PART = (
    "SELECT * FROM personalization_shopper_part({lo}, {hi}, '{ev}', '{pc}', '{intents}', {compare})"
)

# 4. The intents of text signals, one JSON object per shopper: a small table (2 % of the events)
#    of its own, because the expiry's parse (``personalization_safe_timestamptz``) is parallel
#    unsafe and would keep AGGREGATE's shopper parts out of the parallel workers. UNLOGGED
#    (``{intents}``, named like ``{ev}``) so that the parts, in those workers, read it.
INTENTS = """
CREATE UNLOGGED TABLE {intents} AS
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
"""

# 5. The rows of the shopper parts (``{parts}``: one ``AFFINITY_PART`` per range of shoppers,
#    under a Parallel Append when there are several) of the shoppers whose personalization is
#    on: one per shopper, or (a full build, ``compare``) one per profile to write, with its
#    ``change``; opted-out shoppers dropped (their profiles are deleted: ``DELETE_OPTED_OUT``).
AGGREGATE = """
CREATE TEMPORARY TABLE pz_agg ON COMMIT DROP AS
SELECT s.* FROM ({parts}) AS s
WHERE NOT EXISTS (
    SELECT 1 FROM personalization_shopperchoice c
    WHERE c.user_id = s.user_id AND NOT c.personalization_enabled
)
"""

# The statements, in order, that leave the aggregates in ``pz_agg``; each is formatted with
# ``event_filter`` (and AGGREGATE with ``parts``) and run with the same parameters.
STEPS = (WEIGHTED_EVENTS, PAIR_KEYS, INTEREST_KEYS, PAIR_CODES, INTENTS, AGGREGATE)
DROP_STAGING = "DROP TABLE IF EXISTS {ev}, pz_keys, {pc}, {intents}, pz_agg"
# The UNLOGGED tables, dropped as soon as AGGREGATE has read them.
DROP_SHARED_STAGING = "DROP TABLE {ev}, {pc}, {intents}"

_SET_FROM_A = ", ".join(f"{column} = a.{column}" for column in EVENT_COLUMNS)


def _replace_changed(where: str) -> str:
    return f"""
UPDATE personalization_preferenceprofile AS p SET {_SET_FROM_A}, updated_at = now()
FROM pz_agg AS a
WHERE a.user_id = p.user_id {where}
RETURNING p.user_id
"""  # noqa: S608 (constants only)


def _replace_new(where: str) -> str:
    return f"""
INSERT INTO personalization_preferenceprofile AS p (
    user_id, {", ".join(EVENT_COLUMNS)}, demographics, updated_at)
SELECT a.user_id, {", ".join(f"a.{column}" for column in EVENT_COLUMNS)}, '{{}}'::jsonb, now()
FROM pz_agg AS a
{where}
ON CONFLICT (user_id) DO UPDATE SET
    {", ".join(f"{column} = EXCLUDED.{column}" for column in EVENT_COLUMNS)},
    updated_at = EXCLUDED.updated_at
RETURNING p.user_id
"""  # noqa: S608 (constants only)


# A replacing build (full, or one shopper) writes the event part of a profile only when it
# changes: no dead row, no WAL, no row lock for the others, so a nightly full build over mostly
# unchanged shoppers writes only the few that changed. The aggregation is deterministic
# (``AFFINITY_PART_FUNCTION`` adds each key's scores in a fixed order, sentiment is summed as
# numeric), so an unchanged shopper compares equal. (INSERT ... ON CONFLICT DO UPDATE ... WHERE
# locks every conflicting row before its WHERE: 100,000 row locks and their WAL for an unchanged
# full build, 1.2 s of backend CPU; issue 15.)
#
# One shopper: UPDATE joined to the one ``pz_agg`` row, then INSERT if there was no profile; a
# profile another transaction creates meanwhile (consented demographics) is settled by the
# primary key: its event part is replaced, the rest kept.
REPLACE_CHANGED = _replace_changed(f"AND {_row('p')} IS DISTINCT FROM {_row('a')}")
REPLACE_NEW = _replace_new(
    "WHERE NOT EXISTS "
    "(SELECT 1 FROM personalization_preferenceprofile o WHERE o.user_id = a.user_id)"
)

# Full build: the parts already compared every shopper with the stored profile
# (``aggregate_sql(compare=True)``), so ``pz_agg`` holds only the profiles to write, each with
# its ``change`` (FULL_CHANGED compares nothing again). (FULL_NEW looks nothing up in the
# profile table: an anti join against the table being filled, planned while it was empty,
# rescanned it for every row: 100,000 rows into an empty profile table took over 12 minutes.)
FULL_CHANGED = _replace_changed("AND a.change = 'changed'")
FULL_NEW = _replace_new("WHERE a.change = 'new'")
FULL_CLEARED = f"""
UPDATE personalization_preferenceprofile AS p
SET ({", ".join(EVENT_COLUMNS)}) = {_EMPTY_ROW}, updated_at = now()
FROM pz_agg AS a
WHERE a.user_id = p.user_id AND a.change IN ('cleared', 'empty')
RETURNING p.user_id
"""  # noqa: S608 (constants only)

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
RETURNING p.user_id
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

# Profiles left with nothing (no event, no consented demographics), among the given ids (the
# full build's ``empty`` and ``cleared`` ones and those whose demographics changed).
DELETE_EMPTY = """
DELETE FROM personalization_preferenceprofile AS p
WHERE p.user_id = ANY (%(user_ids)s) AND p.event_count = 0 AND p.demographics = '{}'::jsonb
RETURNING p.user_id
"""
