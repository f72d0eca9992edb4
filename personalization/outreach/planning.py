"""Planning a campaign: one outbox row per eligible shopper, each with its slot and decision.

Eligible: opted in to marketing email, active, with an email address, a member of one of the
campaign's segments, the address not suppressed, the campaign's topic not turned off, and no
row for this campaign yet. Planning locks the eligible shoppers' ``Subscriber`` rows
(``ORDER BY user_id FOR UPDATE``: two planners never deadlock), then, in a new statement that
sees everything committed before the locks were granted, reserves a slot for each under the
budget (``budget.PLAN_SQL`` on PostgreSQL; ``budget.decide`` per shopper elsewhere).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from . import budget as rules
from .models import (
    BudgetSettings,
    Campaign,
    OutreachDecision,
    OutreachMessage,
    Subscriber,
)
from .rendering import message_id_domain


def campaign_segment_ids(campaign: Campaign) -> list[int]:
    """The ids of the campaign's target segments."""
    if not campaign.pk:
        return []
    return list(campaign.segments.values_list("pk", flat=True))


def _eligible_sql() -> str:
    user_table = get_user_model()._meta.db_table
    # Only the user table's name is put in; every value is a bound parameter.
    return """
        SELECT s.user_id FROM outreach_subscriber s JOIN auth_user u ON u.id = s.user_id
        WHERE s.marketing_opt_in AND u.is_active AND u.email <> ''
          AND EXISTS (
              SELECT 1 FROM segments_segmentmembership m
              JOIN outreach_campaign_segments cs ON cs.segment_id = m.segment_id
              WHERE cs.campaign_id = %(campaign)s AND m.user_id = s.user_id)
          AND NOT EXISTS (SELECT 1 FROM outreach_suppression x WHERE x.email = lower(u.email))
          AND NOT EXISTS (SELECT 1 FROM outreach_topicoptout t
                          WHERE t.user_id = s.user_id AND t.topic = %(topic)s)
          AND NOT EXISTS (SELECT 1 FROM outreach_outreachmessage o
                          WHERE o.campaign_id = %(campaign)s AND o.user_id = s.user_id)
    """.replace(" auth_user ", f" {connection.ops.quote_name(user_table)} ")


def _start(campaign: Campaign, now: datetime) -> datetime:
    return max(campaign.send_at or now, now)


def _token(campaign: Campaign) -> str:
    return f"{int(campaign.created_at.timestamp()):x}{secrets.token_hex(3)}"


@transaction.atomic
def campaign_plan(*, campaign_id: int, now: datetime | None = None) -> int:
    """Plan a scheduled campaign; returns the number of outbox rows added.

    Idempotent: shoppers already planned are skipped (and the unique constraint backs that up),
    so a retried or duplicated task adds nothing twice. A planned campaign is planned again
    (``replan_open_campaigns``) until its ``ends_at``: that adds the shoppers who joined a target
    segment since, each once, under the same budget. A cancelled or draft campaign, or a
    planned one past its end (or without one), plans nothing.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.status == Campaign.Status.PLANNED:
        # Planned already: only shoppers who joined a target segment since, until it ends.
        if not campaign.takes_new_members(now or timezone.now()):
            return 0
    elif campaign.status != Campaign.Status.SCHEDULED:
        return 0
    params = {"campaign": campaign.pk, "topic": campaign.topic}
    eligible = _eligible_sql()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Lock first, plan after: this statement's snapshot is older than the locks it
            # waits for, so the slots are computed by the next statement. The locked ids are
            # handed to it as they are (eligibility is not computed twice); the opt-in is
            # checked again on the locked row (a shopper who opted out meanwhile is skipped).
            cursor.execute(
                "SELECT s.user_id FROM outreach_subscriber s "  # noqa: S608
                f"WHERE s.user_id IN ({eligible}) AND s.marketing_opt_in "
                "ORDER BY s.user_id FOR UPDATE",
                params,
            )
            params["ids"] = [row[0] for row in cursor.fetchall()]
            candidates = len(params["ids"])
            eligible = "SELECT unnest(%(ids)s::integer[])"
        else:
            cursor.execute(f"SELECT count(*) FROM ({eligible}) e", params)  # noqa: S608
            (candidates,) = cursor.fetchone()
        # The clock is read once the shoppers are locked: a plan that waited for another
        # campaign's plan starts after that plan's slots, not before them (an earlier start
        # would be deferred behind them by the gap rule even with a gap of 0 h).
        now = now or timezone.now()
        if not candidates:
            added = 0
        elif connection.vendor == "postgresql":
            added = _plan_sql(cursor, campaign, eligible, params, now)
        else:
            added = _plan_python(cursor, campaign, eligible, params, now)
    if campaign.status != Campaign.Status.PLANNED:
        campaign.status = Campaign.Status.PLANNED
        campaign.planned_at = now
        campaign.save(update_fields=["status", "planned_at"])
    if candidates:
        from .tasks import send_due

        transaction.on_commit(lambda: send_due.delay())
    return added


def replan_open_campaigns(*, now: datetime | None = None) -> dict[int, int]:
    """Plan again every planned campaign that has not ended, for shoppers who joined its
    segments since. Returns ``{campaign id: messages added}`` (0 when nobody new joined)."""
    now = now or timezone.now()
    ids = Campaign.objects.filter(status=Campaign.Status.PLANNED, ends_at__gt=now).values_list(
        "pk", flat=True
    )
    return {pk: campaign_plan(campaign_id=pk) for pk in list(ids)}


def _sql_params(campaign: Campaign, now: datetime) -> dict:
    settings = BudgetSettings.current()
    normal = rules.Budget.for_shopper(settings, "normal")
    fewer = rules.Budget.for_shopper(settings, "fewer")
    default_tz = rules.zone(settings.default_time_zone, "UTC").key
    zones = {
        name
        for name in Subscriber.objects.exclude(time_zone="")
        .values_list("time_zone", flat=True)
        .distinct()
        if rules.zone(name, "").key == name
    }
    return {
        "default_tz": default_tz,
        "fallback_tz": default_tz,
        "valid_tzs": sorted(zones | {default_tz}),
        "engaging": list(rules.ENGAGING_KINDS),
        "cap": normal.cap,
        "cap_fewer": fewer.cap,
        "gap": normal.gap,
        "gap_fewer": fewer.gap,
        "backoff_gap": normal.backoff_gap,
        "backoff_gap_fewer": fewer.backoff_gap,
        "backoff_after": settings.backoff_after,
        "pause_after": settings.pause_after,
        "window": normal.window,
        "window_days": settings.window_days,
        "qs": settings.quiet_start,
        "qe": settings.quiet_end,
        "qe_label": f"{settings.quiet_end:%H:%M}",
        "t0": _start(campaign, now),
        "policy": campaign.held_policy,
        "token": _token(campaign),
        "domain": message_id_domain(),
        "now": now,
    }


# A plan adding more outbox rows than this refreshes the outbox's planner statistics.
ANALYZE_AFTER = 1000


def _plan_sql(cursor, campaign, eligible, params, now) -> int:
    sql = rules.PLAN_SQL.format(eligible=eligible)
    # No JIT for this statement: its estimated cost is far above ``jit_above_cost`` (the row
    # counts of its CTEs are guesses), and compiling its ~5,000 expressions took PostgreSQL
    # 66 s for a statement that runs in 12 s without (EXPLAIN ANALYZE, 100,000 shoppers).
    # ``set_config(..., true)`` lasts until the transaction ends; the old value is put back.
    cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
    (jit,) = cursor.fetchone()[:1]
    cursor.execute(sql, {**params, **_sql_params(campaign, now)})
    added = cursor.rowcount
    cursor.execute("SELECT set_config('jit', %s, true)", [jit])
    if added > ANALYZE_AFTER:
        # Fresh statistics (this transaction's rows count): planned right after a large plan,
        # before autovacuum's ANALYZE, the next campaign's statement saw the outbox as nearly
        # empty and joined every candidate to every message in nested loops (100,000 shoppers:
        # over 5 minutes instead of ~30 s; EXPLAIN showed "rows=1" on outreach_outreachmessage).
        cursor.execute(f"ANALYZE {OutreachMessage._meta.db_table}")
    return added


def shopper_streaks(user_ids) -> dict[int, int]:
    """Emails sent to each shopper since they last engaged (visit, order, like, open, click)."""
    from django.db.models import Max

    from personalization.models import Event

    engaged = dict(
        Event.objects.filter(user_id__in=user_ids, kind__in=rules.ENGAGING_KINDS)
        .values("user_id")
        .annotate(at=Max("occurred_at"))
        .values_list("user_id", "at")
    )
    streaks: dict[int, int] = {}
    for user_id, sent_at in OutreachMessage.objects.filter(
        user_id__in=user_ids, status=OutreachMessage.Status.SENT
    ).values_list("user_id", "sent_at"):
        if engaged.get(user_id) is None or sent_at > engaged[user_id]:
            streaks[user_id] = streaks.get(user_id, 0) + 1
    return streaks


def counted_slots(user_ids, *, exclude_pk: int | None = None) -> dict[int, list[datetime]]:
    slots: dict[int, list[datetime]] = {}
    rows = OutreachMessage.objects.counted().filter(user_id__in=user_ids, slot_at__isnull=False)
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    for user_id, slot in rows.values_list("user_id", "slot_at"):
        slots.setdefault(user_id, []).append(slot)
    return slots


def _plan_python(cursor, campaign, eligible, params, now) -> int:
    """The same plan as ``budget.PLAN_SQL``, one shopper at a time (SQLite, small shops)."""
    cursor.execute(eligible, params)
    user_ids = [row[0] for row in cursor.fetchall()]
    if not user_ids:
        return 0
    settings = BudgetSettings.current()
    start = _start(campaign, now)
    token = _token(campaign)
    domain = message_id_domain()
    subscribers = Subscriber.objects.select_related("user").in_bulk(user_ids)
    streaks = shopper_streaks(user_ids)
    slots = counted_slots(user_ids)
    messages, verdicts = [], {}
    for user_id in user_ids:
        sub = subscribers[user_id]
        verdict = rules.decide(
            budget=rules.Budget.for_shopper(settings, sub.frequency),
            desired=start,
            counted=slots.get(user_id, []),
            streak=streaks.get(user_id, 0),
            tz=rules.zone(sub.time_zone, settings.default_time_zone),
            policy=campaign.held_policy,
            paused_until=sub.paused_until,
        )
        verdicts[user_id] = verdict
        messages.append(
            OutreachMessage(
                campaign=campaign,
                user_id=user_id,
                email=sub.user.email.lower(),
                message_id=f"<c{campaign.pk}.u{user_id}.{token}@{domain}>",
                status=(
                    OutreachMessage.Status.DROPPED
                    if verdict.outcome == "dropped"
                    else OutreachMessage.Status.PLANNED
                ),
                slot_at=verdict.at,
                next_attempt_at=verdict.at,
                rule=verdict.rule,
                reason=verdict.reason[:200],
                created_at=now,
            )
        )
    OutreachMessage.objects.bulk_create(messages, ignore_conflicts=True, batch_size=500)
    created = OutreachMessage.objects.filter(
        campaign=campaign, user_id__in=user_ids, created_at=now
    ).values_list("pk", "user_id")
    decisions = [
        OutreachDecision(
            message_id=pk,
            user_id=user_id,
            campaign=campaign,
            outcome=verdicts[user_id].outcome,
            rule=verdicts[user_id].rule,
            reason=verdicts[user_id].reason[:200],
            until=verdicts[user_id].at if verdicts[user_id].outcome == "deferred" else None,
            decided_at=now,
        )
        for pk, user_id in created
    ]
    OutreachDecision.objects.bulk_create(decisions, batch_size=500)
    return len(decisions)


def budget_violations() -> int:
    """Counted messages breaking the budget's loosest rule (cap per window, minimum gap).

    PostgreSQL only (window RANGE over intervals); must be 0.
    """
    settings = BudgetSettings.current()
    normal = rules.Budget.for_shopper(settings, "normal")
    with connection.cursor() as cursor:
        cursor.execute(
            rules.VIOLATIONS_SQL,
            {
                "window": normal.window - timedelta(microseconds=1),
                "cap": normal.cap,
                "gap": normal.gap,
            },
        )
        return cursor.fetchone()[0]
