"""The shopper's attention budget: when a marketing email may go out, and which rule said so.

One budget per shopper across all campaigns (``BudgetSettings``):

- **cap**: at most ``max_per_window`` emails in any rolling window of ``window_days`` (a new
  email at ``t`` needs the cap-th latest counted email at or before ``t - window``);
- **gap**: at least ``min_gap_hours`` since the latest counted email;
- **engagement**: a shopper whose last ``backoff_after`` emails were neither opened nor clicked
  (and who did not visit or order since) gets the longer ``backoff_gap_hours``; after
  ``pause_after`` more they are paused until they engage again;
- **quiet hours** (``quiet_start``–``quiet_end`` in the shopper's zone, wrapping midnight when
  start > end): a message that would fall inside them moves to their end, never skipped;
- **frequency** "fewer" (preference centre) halves the cap (at least 1) and doubles the gaps;
  a pause chosen by the shopper drops messages until it ends.

``decide`` is the rule in Python (used by the sender at send time, by the SQLite planner and by
previews); ``plan_sql`` is the same rule as one set-based PostgreSQL statement for planning a
campaign. ``tests/outreach/test_budget.py`` checks that both give the same plan.

Counted emails are outbox rows that are planned (a reserved slot) or sent (their send time):
new slots are always placed after a shopper's latest counted one, so the windows of earlier
slots never change and the plan stays within budget by induction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Event kinds that count as the shopper engaging again (resets the unengaged streak).
ENGAGING_KINDS = ("view", "add_to_cart", "purchase", "like", "email_open", "email_click")

# Rule codes stored on messages and decisions.
ON_TIME = "on_time"
CAP = "cap"
GAP = "gap"
BACKOFF_GAP = "backoff_gap"
QUIET_HOURS = "quiet_hours"
ENGAGEMENT_PAUSE = "engagement_pause"
SHOPPER_PAUSE = "shopper_pause"
NOT_OPTED_IN = "not_opted_in"
SUPPRESSED = "suppressed"
TOPIC_MUTED = "topic_muted"
SENT = "sent"
HARD_BOUNCE = "hard_bounce"
SOFT_BOUNCE = "soft_bounce"
CANCELLED = "cancelled"
RULE_LABELS = {
    ON_TIME: "Within the budget",
    CAP: "Emails per window",
    GAP: "Minimum gap",
    BACKOFF_GAP: "Longer gap (not engaging)",
    QUIET_HOURS: "Quiet hours",
    ENGAGEMENT_PAUSE: "Paused (not engaging)",
    SHOPPER_PAUSE: "Paused by the shopper",
    NOT_OPTED_IN: "Not opted in",
    SUPPRESSED: "Suppressed address",
    TOPIC_MUTED: "Topic turned off",
    SENT: "Sent",
    HARD_BOUNCE: "Hard bounce",
    SOFT_BOUNCE: "Temporary refusal",
    CANCELLED: "Campaign cancelled",
}


@dataclass(frozen=True)
class Budget:
    """The budget rules for one shopper (settings with their frequency applied)."""

    cap: int
    window: timedelta
    gap: timedelta
    backoff_gap: timedelta
    backoff_after: int
    pause_after: int
    quiet_start: time
    quiet_end: time

    @classmethod
    def for_shopper(cls, settings, frequency: str = "normal") -> Budget:
        fewer = frequency == "fewer"
        return cls(
            cap=max(1, settings.max_per_window // 2) if fewer else settings.max_per_window,
            window=timedelta(days=settings.window_days),
            gap=timedelta(hours=settings.min_gap_hours * (2 if fewer else 1)),
            backoff_gap=timedelta(hours=settings.backoff_gap_hours * (2 if fewer else 1)),
            backoff_after=settings.backoff_after,
            pause_after=settings.pause_after,
            quiet_start=settings.quiet_start,
            quiet_end=settings.quiet_end,
        )


@dataclass(frozen=True)
class Verdict:
    """``outcome`` is "scheduled" (at ``at``, on time), "deferred" (to ``at``) or "dropped"."""

    outcome: str
    at: datetime | None
    rule: str
    reason: str


def zone(name: str, default: str) -> ZoneInfo:
    """The shopper's zone; an unknown name falls back to ``default`` (then UTC)."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g}"


def quiet_until(at: datetime, *, tz: ZoneInfo, start: time, end: time) -> datetime | None:
    """The end of the quiet hours ``at`` falls in (aware, UTC), or None when it does not.

    Computed on the shopper's wall clock, so a DST change moves the UTC moment: quiet hours
    ending 08:00 Europe/Oslo end at 07:00 UTC in winter and 06:00 UTC in summer.
    """
    if start == end:
        return None
    local = at.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    day: date | None = None
    if start > end:  # wraps midnight, e.g. 21:00–08:00
        if clock >= start:
            day = local.date() + timedelta(days=1)
        elif clock < end:
            day = local.date()
    elif start <= clock < end:
        day = local.date()
    if day is None:
        return None
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


def decide(
    *,
    budget: Budget,
    desired: datetime,
    counted: list[datetime],
    streak: int,
    tz: ZoneInfo,
    policy: str,
    paused_until: datetime | None = None,
) -> Verdict:
    """Decide when a message wanted at ``desired`` may go out under ``budget``.

    ``counted``: the shopper's counted emails (reserved slots and send times, any order, this
    message excluded); ``streak``: emails sent since the shopper last engaged; ``policy``:
    "defer" or "drop" for a message held by the cap or a gap. Quiet hours always defer.
    Returns a ``Verdict``; ``at`` is UTC-aware (None when dropped).
    """
    if paused_until is not None and paused_until > desired:
        local = paused_until.astimezone(tz)
        return Verdict(
            "dropped", None, SHOPPER_PAUSE, f"paused by the shopper until {local:%d %b %Y}"
        )
    if streak >= budget.backoff_after + budget.pause_after:
        return Verdict(
            "dropped",
            None,
            ENGAGEMENT_PAUSE,
            f"paused: no opens or clicks in the last {streak} emails",
        )
    backoff = streak >= budget.backoff_after
    gap = budget.backoff_gap if backoff else budget.gap
    latest = sorted(counted, reverse=True)
    gap_bound = latest[0] + gap if latest else None
    cap_bound = latest[budget.cap - 1] + budget.window if len(latest) >= budget.cap else None
    at, rule, reason = desired, None, ""
    if (
        cap_bound is not None
        and cap_bound > desired
        and (gap_bound is None or cap_bound >= gap_bound)
    ):
        at, rule = cap_bound, CAP
        plural = "s" if budget.cap != 1 else ""
        reason = f"{budget.cap} email{plural} in the last {budget.window.days} days"
    elif gap_bound is not None and gap_bound > desired:
        at = gap_bound
        if backoff:
            rule = BACKOFF_GAP
            reason = (
                f"longer gap of {_hours(gap)} h: no opens or clicks in the last {streak} emails"
            )
        else:
            rule, reason = GAP, f"minimum gap of {_hours(gap)} h since the last email"
    if rule is not None and policy == "drop":
        return Verdict("dropped", None, rule, reason)
    quiet = quiet_until(at, tz=tz, start=budget.quiet_start, end=budget.quiet_end)
    if quiet is not None:
        quiet_reason = f"quiet hours until {budget.quiet_end:%H:%M} {tz.key}"
        reason = f"{reason}; then {quiet_reason}" if rule else quiet_reason
        return Verdict("deferred", quiet, rule or QUIET_HOURS, reason)
    if rule is not None:
        return Verdict("deferred", at, rule, reason)
    return Verdict("scheduled", at, ON_TIME, "within the budget")


# The same rule as ``decide``, for every eligible shopper of a campaign at once (PostgreSQL).
# ``{eligible}`` is a subquery of user ids; the statement inserts the outbox rows and one
# decision per row, and skips shoppers the campaign already has (ON CONFLICT DO NOTHING).
PLAN_SQL = """
WITH cand AS (
    SELECT s.user_id, lower(u.email) AS email, s.frequency, s.paused_until,
           COALESCE(NULLIF(s.time_zone, ''), %(default_tz)s) AS tz
    FROM outreach_subscriber s JOIN auth_user u ON u.id = s.user_id
    WHERE s.user_id IN ({eligible})
),
tzs AS (
    SELECT c.user_id, c.email, c.frequency, c.paused_until,
           CASE WHEN c.tz = ANY(%(valid_tzs)s) THEN c.tz ELSE %(fallback_tz)s END AS tz
    FROM cand c
),
counted AS (
    SELECT o.user_id, o.slot_at,
           row_number() OVER (PARTITION BY o.user_id ORDER BY o.slot_at DESC) AS rn
    FROM outreach_outreachmessage o
    WHERE o.user_id IN (SELECT user_id FROM cand)
      AND o.status IN ('planned', 'sent') AND o.slot_at IS NOT NULL
),
sent_n AS (
    SELECT o.user_id
    FROM outreach_outreachmessage o
    WHERE o.user_id IN (SELECT user_id FROM cand) AND o.status = 'sent'
    GROUP BY o.user_id HAVING count(*) >= %(backoff_after)s
),
streaks AS (
    SELECT n.user_id, (
        SELECT count(*) FROM outreach_outreachmessage o
        WHERE o.user_id = n.user_id AND o.status = 'sent'
          AND o.sent_at > COALESCE((
              SELECT max(e.occurred_at) FROM personalization_event e
              WHERE e.user_id = n.user_id AND e.kind = ANY(%(engaging)s)
          ), '-infinity'::timestamptz)
    ) AS streak
    FROM sent_n n
),
last_n AS (
    SELECT k.user_id,
           max(k.slot_at) FILTER (WHERE k.rn = 1) AS last_at,
           max(k.slot_at) FILTER (
               WHERE k.rn = CASE WHEN t.frequency = 'fewer' THEN %(cap_fewer)s ELSE %(cap)s END
           ) AS nth_at
    FROM counted k JOIN tzs t ON t.user_id = k.user_id
    WHERE k.rn <= GREATEST(%(cap)s, %(cap_fewer)s, 1)
    GROUP BY k.user_id
),
base AS (
    SELECT t.*, COALESCE(st.streak, 0) AS streak,
           CASE WHEN t.frequency = 'fewer' THEN %(cap_fewer)s ELSE %(cap)s END AS cap,
           CASE WHEN COALESCE(st.streak, 0) >= %(backoff_after)s
                THEN CASE WHEN t.frequency = 'fewer' THEN %(backoff_gap_fewer)s
                          ELSE %(backoff_gap)s END
                ELSE CASE WHEN t.frequency = 'fewer' THEN %(gap_fewer)s ELSE %(gap)s END
           END AS gap,
           ln.last_at, ln.nth_at
    FROM tzs t
    LEFT JOIN streaks st ON st.user_id = t.user_id
    LEFT JOIN last_n ln ON ln.user_id = t.user_id
),
bounds AS (
    SELECT b.*, b.last_at + b.gap AS gap_bound, b.nth_at + %(window)s AS cap_bound
    FROM base b
),
ruled AS (
    SELECT x.*,
        CASE
            WHEN x.paused_until > %(t0)s THEN 'shopper_pause'
            WHEN x.streak >= %(backoff_after)s + %(pause_after)s THEN 'engagement_pause'
        END AS stop_rule,
        CASE
            WHEN x.cap_bound > %(t0)s
                 AND (x.gap_bound IS NULL OR x.cap_bound >= x.gap_bound) THEN 'cap'
            WHEN x.gap_bound > %(t0)s THEN
                CASE WHEN x.streak >= %(backoff_after)s THEN 'backoff_gap' ELSE 'gap' END
        END AS budget_rule
    FROM bounds x
),
timed AS (
    SELECT r.*,
        CASE r.budget_rule WHEN 'cap' THEN r.cap_bound
                           WHEN 'gap' THEN r.gap_bound
                           WHEN 'backoff_gap' THEN r.gap_bound
                           ELSE %(t0)s END AS t_budget
    FROM ruled r
),
local AS (
    SELECT t.*, (t.t_budget AT TIME ZONE t.tz) AS lt FROM timed t
),
-- Computed once per shopper (MATERIALIZED): inlined, every later reference to ``quiet_until``
-- and ``lt`` repeated the zone conversions, ~2.5x the time of the whole projection.
quiet AS MATERIALIZED (
    SELECT l.*,
        CASE
            WHEN %(qs)s = %(qe)s THEN NULL
            WHEN %(qs)s > %(qe)s AND l.lt::time >= %(qs)s
                THEN ((l.lt::date + 1) + %(qe)s) AT TIME ZONE l.tz
            WHEN %(qs)s > %(qe)s AND l.lt::time < %(qe)s
                THEN (l.lt::date + %(qe)s) AT TIME ZONE l.tz
            WHEN %(qs)s < %(qe)s AND l.lt::time >= %(qs)s AND l.lt::time < %(qe)s
                THEN (l.lt::date + %(qe)s) AT TIME ZONE l.tz
        END AS quiet_until
    FROM local l
),
final AS (
    SELECT q.user_id, q.email,
        CASE
            WHEN q.stop_rule IS NOT NULL THEN 'dropped'
            WHEN q.budget_rule IS NOT NULL AND %(policy)s = 'drop' THEN 'dropped'
            WHEN q.budget_rule IS NOT NULL OR q.quiet_until IS NOT NULL THEN 'deferred'
            ELSE 'scheduled'
        END AS outcome,
        COALESCE(q.stop_rule, q.budget_rule,
                 CASE WHEN q.quiet_until IS NOT NULL THEN 'quiet_hours' END,
                 'on_time') AS rule,
        q.quiet_until, q.t_budget, q.tz, q.streak, q.cap, q.gap, q.paused_until, q.budget_rule
    FROM quiet q
),
shaped AS (
    SELECT f.user_id, f.email, f.outcome, f.rule,
        CASE WHEN f.outcome = 'dropped' THEN NULL
             ELSE COALESCE(f.quiet_until, f.t_budget) END AS slot,
        left(CASE
            WHEN f.rule = 'shopper_pause' THEN 'paused by the shopper until '
                 || to_char(f.paused_until AT TIME ZONE f.tz, 'DD Mon YYYY')
            WHEN f.rule = 'engagement_pause'
                 THEN format('paused: no opens or clicks in the last %%s emails', f.streak)
            ELSE concat_ws('; then ',
                CASE f.budget_rule
                    WHEN 'cap' THEN format('%%s email%%s in the last %%s days', f.cap,
                                           CASE WHEN f.cap = 1 THEN '' ELSE 's' END,
                                           %(window_days)s)
                    WHEN 'gap' THEN format('minimum gap of %%s h since the last email',
                                           trim_scale(extract(epoch FROM f.gap) / 3600))
                    WHEN 'backoff_gap' THEN format(
                        'longer gap of %%s h: no opens or clicks in the last %%s emails',
                        trim_scale(extract(epoch FROM f.gap) / 3600), f.streak)
                END,
                CASE WHEN f.quiet_until IS NOT NULL AND f.outcome <> 'dropped'
                     THEN format('quiet hours until %%s %%s', %(qe_label)s, f.tz)
                END,
                CASE WHEN f.rule = 'on_time' THEN 'within the budget' END)
        END, 200) AS reason
    FROM final f
),
ins AS (
    INSERT INTO outreach_outreachmessage (campaign_id, user_id, email, message_id, status,
        slot_at, next_attempt_at, attempts, rule, reason, last_error, created_at)
    SELECT %(campaign)s, s.user_id, s.email,
        '<c' || %(campaign)s || '.u' || s.user_id || '.' || %(token)s || '@' || %(domain)s || '>',
        CASE WHEN s.outcome = 'dropped' THEN 'dropped' ELSE 'planned' END,
        s.slot, s.slot, 0, s.rule, s.reason, '', %(now)s
    FROM shaped s
    ON CONFLICT (campaign_id, user_id) DO NOTHING
    RETURNING id, user_id, status, rule, reason, slot_at
),
-- The outcome follows from the row itself (no join back to ``shaped``): dropped rows are
-- dropped, a planned row on time is scheduled, any other planned row was deferred.
decided AS (
    SELECT i.*, CASE WHEN i.status = 'dropped' THEN 'dropped'
                     WHEN i.rule = 'on_time' THEN 'scheduled'
                     ELSE 'deferred' END AS outcome
    FROM ins i
)
INSERT INTO outreach_outreachdecision (message_id, user_id, campaign_id, outcome, rule, reason,
    until, decided_at)
SELECT d.id, d.user_id, %(campaign)s, d.outcome, d.rule, d.reason,
    CASE WHEN d.outcome = 'deferred' THEN d.slot_at END, %(now)s
FROM decided d
"""

# Messages whose window holds more counted emails than the cap allows, or that come closer
# than the minimum gap (frequency "fewer" and engagement backoff only make the rule stricter,
# so this checks the loosest rule every shopper is held to). Must be 0.
VIOLATIONS_SQL = """
SELECT count(*) FROM (
    SELECT o.id,
           count(*) OVER (PARTITION BY o.user_id ORDER BY o.slot_at
                          RANGE BETWEEN %(window)s PRECEDING AND CURRENT ROW) AS in_window,
           o.slot_at - lag(o.slot_at) OVER (PARTITION BY o.user_id ORDER BY o.slot_at)
               AS since_previous
    FROM outreach_outreachmessage o
    WHERE o.status IN ('planned', 'sent') AND o.slot_at IS NOT NULL
) w
WHERE w.in_window > %(cap)s OR w.since_previous < %(gap)s
"""
