"""The earning run on PostgreSQL: every active rule's trigger, the cap and the issuing in SQL.

``issue_earned`` is what ``services.coupons_issue_earned`` calls on PostgreSQL, in its
transaction and under its advisory lock. No Python loop over shoppers:

1. each rule's trigger ``SELECT`` (``TriggerType.select``) fills a temporary table with the
   shoppers it applies to and their occasion, leaving out (anti-join on the unique index
   ``coupon_once_per_occasion``) the occasions already issued, so a re-run reads little;
2. one ``INSERT ... SELECT`` ranks each shopper's fresh occasions (rule order, then occasion),
   adds the earned coupons they got in the last 30 days, admits those within
   ``LOYALTY_MAX_EARNED_PER_30_DAYS``, draws each code in SQL and inserts with
   ``ON CONFLICT DO NOTHING``: the unique (owner, trigger, occasion) constraint, not a check,
   is what makes a trigger issue once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection

from .models import EARNED, Coupon, EarnRule

CANDIDATE_TABLE = """
CREATE TEMP TABLE loyalty_candidate (rank integer NOT NULL, earn_rule_id bigint NOT NULL,
    owner_id bigint NOT NULL, occasion text NOT NULL, reason text NOT NULL, facts jsonb NOT NULL,
    conditions jsonb NOT NULL) ON COMMIT DROP
"""

# {select} is the trigger's SELECT; the NOT EXISTS is served by coupon_once_per_occasion
# (owner_id, trigger, occasion) WHERE occasion <> ''
CANDIDATE_INSERT = """
INSERT INTO loyalty_candidate (rank, earn_rule_id, owner_id, occasion, reason, facts, conditions)
SELECT %(_rank)s, %(_rule)s, c.owner_id, left(c.occasion, 120), left(c.reason, 255), c.facts,
    c.conditions
FROM ({select}) c
WHERE c.owner_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM {coupon} x WHERE x.owner_id = c.owner_id AND x.trigger = %(_trigger)s
        AND x.occasion = left(c.occasion, 120) AND x.occasion <> '')
"""

# Code: 'TY-' and 12 hex digits of a version-4 UUID's random part (48 bits from PostgreSQL's
# strong random source; hex has no O or I to misread). A collision with an existing code is
# skipped by ON CONFLICT like a duplicate occasion and issued by the next run.
ISSUE = """
WITH fresh AS (
    SELECT DISTINCT ON (n.owner_id, r.trigger, n.occasion) n.*, r.trigger
    FROM loyalty_candidate n JOIN {rule} r ON r.id = n.earn_rule_id
    ORDER BY n.owner_id, r.trigger, n.occasion, n.rank
), recent AS (
    SELECT x.owner_id, count(*) AS n FROM {coupon} x
    WHERE x.trigger = ANY(%(earned)s) AND x.created_at >= %(since)s
        AND x.owner_id IN (SELECT owner_id FROM loyalty_candidate)
    GROUP BY x.owner_id
), ranked AS (
    SELECT f.*, COALESCE(rc.n, 0)
        + row_number() OVER (PARTITION BY f.owner_id ORDER BY f.rank, f.occasion) AS nth
    FROM fresh f LEFT JOIN recent rc ON rc.owner_id = f.owner_id
), inserted AS (
    INSERT INTO {coupon} (code, kind, owner_id, benefit_type, benefit_value, conditions,
        valid_from, valid_until, max_uses, max_uses_per_shopper, uses, combinable, trigger,
        occasion, earn_rule_id, reason, facts, batch, issued_by_id, revoked_at,
        revoked_reason, created_at)
    SELECT 'TY-' || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 12)), 'single',
        k.owner_id, r.benefit_type, r.benefit_value,
        k.conditions || CASE WHEN COALESCE(r.min_subtotal, 0) <> 0
            THEN jsonb_build_array(jsonb_build_object('type', 'min_subtotal',
                'amount', r.min_subtotal::text))
            ELSE '[]'::jsonb END,
        %(now)s, %(now)s + r.valid_days * interval '1 day', 1, 1, 0, r.combinable, k.trigger,
        k.occasion, r.id, k.reason,
        k.facts || jsonb_build_object('rule', r.id, 'rule_name', r.name), '', NULL, NULL, '',
        %(now)s
    FROM ranked k JOIN {rule} r ON r.id = k.earn_rule_id
    WHERE k.nth <= %(cap)s
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM ranked WHERE nth > %(cap)s),
    (SELECT COALESCE(array_agg(id), '{{}}') FROM inserted)
"""


@dataclass
class Issued:
    candidates: int  # fresh (shopper, trigger, occasion) found, not issued before
    held_by_cap: int
    coupon_ids: list[int]


def issue_earned(*, rules: list[tuple[EarnRule, object]], now, cap: int) -> Issued:
    """Issue the earned coupons of ``rules`` (``[(rule, TriggerType)]``, in priority order: the
    cap admits a shopper's occasions in this order) at ``now``, at most ``cap`` earned coupons
    per shopper in the 30 days before ``now`` (counted with the ones issued before, withdrawn
    ones included). PostgreSQL only; the caller holds the transaction and the run's lock.

    Guarantees: one coupon per (owner, trigger, occasion) ever (unique constraint); a coupon is
    ``single``, for one use, valid from ``now`` for the rule's ``valid_days``, with the rule's
    benefit, the trigger's conditions plus the rule's minimum order, and the trigger's reason and
    facts plus ``rule`` / ``rule_name``. Returns the counts and the new coupons' ids."""
    coupon, rule_table = (connection.ops.quote_name(m._meta.db_table) for m in (Coupon, EarnRule))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS loyalty_candidate")
        cursor.execute(CANDIDATE_TABLE)
        for rank, (rule, trigger) in enumerate(rules):
            own = {"_rank": rank, "_rule": rule.pk, "_trigger": str(rule.trigger)}
            found = trigger.select(rule, now=now)
            if found is None:  # a trigger without SQL: its Python candidates, copied in
                _copy_candidates(cursor, rank, rule, trigger.candidates(rule, now=now))
                continue
            select, params = found
            cursor.execute(CANDIDATE_INSERT.format(select=select, coupon=coupon), {**params, **own})
        cursor.execute("ANALYZE loyalty_candidate")
        # the planner cannot know how few shoppers the CTEs share, overestimates the rows by
        # orders of magnitude and spends a second compiling the plan (JIT) for 150,000 rows:
        # off for the rest of this transaction (SET LOCAL)
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            ISSUE.format(coupon=coupon, rule=rule_table),
            {
                "earned": [str(t) for t in EARNED],
                "since": now - timedelta(days=30),
                "now": now,
                "cap": cap,
            },
        )
        fresh, held, ids = cursor.fetchone()
        if len(ids) > 1000:
            # fresh statistics, or the next run's "already issued" anti-join is planned as if
            # the table were still small (a nested loop over every shopper)
            cursor.execute(f"ANALYZE {coupon}")
    return Issued(candidates=fresh, held_by_cap=held, coupon_ids=list(ids))


def _copy_candidates(cursor, rank: int, rule: EarnRule, candidates) -> None:
    with cursor.cursor.copy(
        "COPY loyalty_candidate (rank, earn_rule_id, owner_id, occasion, reason, facts, "
        "conditions) FROM STDIN"
    ) as copy:
        for c in candidates:
            copy.write_row(
                (
                    rank,
                    rule.pk,
                    c.user_id,
                    c.occasion[:120],
                    c.reason[:255],
                    json.dumps(c.facts),
                    json.dumps(c.conditions),
                )
            )
    cursor.execute(
        "DELETE FROM loyalty_candidate n WHERE n.earn_rule_id = %s AND EXISTS (SELECT 1 FROM "
        "loyalty_coupon x WHERE x.owner_id = n.owner_id AND x.trigger = %s "
        "AND x.occasion = n.occasion AND x.occasion <> '')",
        [rule.pk, str(rule.trigger)],
    )
