"""Sending the outbox exactly once.

Each message is handled in its own transaction:

1. claim the next due row and its shopper's ``Subscriber`` row in one
   ``SELECT … FOR UPDATE SKIP LOCKED`` (two workers never take the same row; a second delivery
   of the task finds nothing left to do; a shopper locked by a planner or another sender waits
   for the next pass);
2. take a token from the global send rate (``ratelimit``);
3. read the shopper's state in the next statement (so after the locks) and decide again with
   what is true *now*: consent, suppression, topic, the shopper's pause, engagement, and the
   budget counted on actual send times (so a late worker can never squeeze N+1 emails into a
   window), quiet hours;
4. send through the Django email backend with the Message-ID stored at planning time;
5. mark it sent (or bounced / retrying) and log the decision; commit.

A worker killed anywhere before the commit leaves the row planned (its lock dies with the
connection) and the next run sends it; once committed it is never sent again. The one window
left is a kill after the SMTP server accepted the message and before the commit: the message
then goes out again with the *same* Message-ID, which receiving systems use to recognise the
copy (see docs/outreach.md).
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from . import budget as rules
from . import ratelimit
from .models import (
    BudgetSettings,
    Campaign,
    OutreachDecision,
    OutreachMessage,
    Subscriber,
    Suppression,
    TopicOptOut,
)
from .planning import shopper_streaks
from .privacy import suppression_digest
from .rendering import build_email

logger = logging.getLogger(__name__)

try:  # django-anymail: an ESP refusing every recipient is a hard bounce too
    from anymail.exceptions import AnymailRecipientsRefused
except ImportError:  # pragma: no cover
    AnymailRecipientsRefused = None


def email_connection():
    """The backend for marketing email: ``OUTREACH_EMAIL_BACKEND`` or ``EMAIL_BACKEND``.

    Transactional mail keeps using ``EMAIL_BACKEND`` and is never throttled by outreach.
    """
    return get_connection(backend=getattr(settings, "OUTREACH_EMAIL_BACKEND", None) or None)


def _log(message, outcome, rule, reason, until=None, now=None) -> None:
    OutreachDecision.objects.create(
        message=message,
        user_id=message.user_id,
        campaign_id=message.campaign_id,
        outcome=outcome,
        rule=rule,
        reason=reason[:200],
        until=until,
        decided_at=now or timezone.now(),
    )


def _drop(message, rule, reason, now) -> str:
    message.status = OutreachMessage.Status.DROPPED
    message.slot_at = message.next_attempt_at = None
    message.rule, message.reason = rule, reason[:200]
    message.save(update_fields=["status", "slot_at", "next_attempt_at", "rule", "reason"])
    _log(message, OutreachDecision.Outcome.DROPPED, rule, reason, now=now)
    return "dropped"


def _refusal(exc) -> tuple[int, str] | None:
    """(SMTP code, text) of a refusal of this message, or None when it is not one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return code, text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    if isinstance(exc, smtplib.SMTPDataError | smtplib.SMTPSenderRefused):
        text = exc.smtp_error
        return exc.smtp_code, text.decode(errors="replace") if isinstance(text, bytes) else str(
            text
        )
    if AnymailRecipientsRefused is not None and isinstance(exc, AnymailRecipientsRefused):
        return 550, str(exc)
    return None


# What the send decision needs besides the ``Subscriber`` row, in one round trip on PostgreSQL:
# whether the address is suppressed or the topic muted, the send times counted by the budget,
# and the shopper's latest engagement (for the unengaged streak). It runs as its own statement
# *after* the claim locked the shopper's ``Subscriber`` row, so its snapshot holds every email
# another sender committed for this shopper before the lock was granted (read in the locking
# statement itself, a sender that waited for the lock would count without the email the lock
# holder had just sent, and could send N+1).
STATE_SQL = """
SELECT
    EXISTS (SELECT 1 FROM outreach_suppression x WHERE x.email IN (%(email)s, %(digest)s)),
    EXISTS (SELECT 1 FROM outreach_topicoptout t
            WHERE t.user_id = %(user)s AND t.topic = %(topic)s),
    ARRAY(SELECT o.sent_at FROM outreach_outreachmessage o
          WHERE o.user_id = %(user)s AND o.status = 'sent'),
    (SELECT max(e.occurred_at) FROM personalization_event e
     WHERE e.user_id = %(user)s AND e.kind = ANY(%(engaging)s))
"""


@dataclass(frozen=True)
class ShopperState:
    """What a send decision needs to know about the shopper, read under their lock."""

    opted_in: bool
    time_zone: str
    frequency: str
    paused_until: datetime | None
    suppressed: bool
    muted: bool
    sent_times: list[datetime]
    streak: int


def _shopper_state(*, user, subscriber, topic: str) -> ShopperState:
    """The shopper's state; ``subscriber`` is their ``Subscriber`` row, locked by the claim."""
    address = user.email.lower()
    if db_connection.vendor == "postgresql":
        params = {
            "user": user.pk,
            "email": address,
            "digest": suppression_digest(address),
            "topic": topic,
            "engaging": list(rules.ENGAGING_KINDS),
        }
        with db_connection.cursor() as cursor:
            cursor.execute(STATE_SQL, params)
            suppressed, muted, sent, engaged = cursor.fetchone()
        sent = [t for t in sent if t is not None]
        streak = sum(1 for t in sent if engaged is None or t > engaged)
    else:
        sent = list(
            OutreachMessage.objects.filter(
                user=user, status=OutreachMessage.Status.SENT
            ).values_list("sent_at", flat=True)
        )
        suppressed = Suppression.objects.filter(
            email__in=[address, suppression_digest(address)]
        ).exists()
        muted = TopicOptOut.objects.filter(user=user, topic=topic).exists()
        streak = shopper_streaks([user.pk]).get(user.pk, 0)
    return ShopperState(
        opted_in=subscriber.marketing_opt_in,
        time_zone=subscriber.time_zone,
        frequency=subscriber.frequency,
        paused_until=subscriber.paused_until,
        suppressed=suppressed,
        muted=muted,
        sent_times=sent,
        streak=streak,
    )


def _claim(now, campaign_id: int | None, pk: int | None = None):
    """The next due message (or message ``pk`` if it is still due), locked with its shopper's
    ``Subscriber`` row: ``(message, subscriber)``, or ``(None, None)``.

    One statement takes both locks with ``SKIP LOCKED``: a message taken by another sender,
    or whose shopper is being planned or sent to right now, is left for the next pass rather
    than waited for. Messages of shoppers without a ``Subscriber`` row (never opted in) are
    claimed alone, once nothing else is due, and get one (see ``message_send_next``).
    """
    due = OutreachMessage.objects.due(now)
    if campaign_id is not None:
        due = due.filter(campaign_id=campaign_id)
    if pk is not None:
        due = due.filter(pk=pk)
    ordered = ("next_attempt_at", "pk")
    message = (
        due.filter(user__outreach_subscriber__isnull=False)
        .select_related("user", "campaign", "user__outreach_subscriber")
        .select_for_update(skip_locked=True, of=("self", "user__outreach_subscriber"))
        .order_by(*ordered)
        .first()
    )
    if message is not None:
        return message, message.user.outreach_subscriber
    if pk is not None:
        return None, None
    message = (
        due.filter(user__outreach_subscriber__isnull=True)
        .select_related("user", "campaign")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by(*ordered)
        .first()
    )
    if message is None:
        return None, None
    subscriber, _ = Subscriber.objects.get_or_create(user_id=message.user_id)
    return message, Subscriber.objects.select_for_update().get(pk=subscriber.pk)


def _due_ids(campaign_id: int | None, *, tried: set[int], limit: int) -> list[int]:
    """Ids of the next due messages in sending order, without locking (claimed one by one)."""
    due = OutreachMessage.objects.due(timezone.now())
    if campaign_id is not None:
        due = due.filter(campaign_id=campaign_id)
    if tried:
        due = due.exclude(pk__in=tried)
    return list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def message_send_next(
    *,
    connection,
    campaign_id: int | None = None,
    config: BudgetSettings | None = None,
    pk: int | None = None,
) -> str | None:
    """Claim, decide and send one due message. Returns the outcome, or None when none is due.

    Outcomes: "sent", "deferred", "dropped", "bounced", "retry", "failed". Connection errors
    propagate (the transaction rolls back; the row stays planned for the next run). ``config``:
    the budget settings (read when not given). ``pk``: handle that message only (None when it
    is no longer due, or another sender holds it or its shopper).
    """
    config = config or BudgetSettings.current()
    with transaction.atomic():
        message, subscriber = _claim(timezone.now(), campaign_id, pk)
        if message is None:
            return None
        # The token is taken once the message is ours (an id skipped takes none) and before
        # the clock is read, so the decision's moment is the moment it is sent.
        ratelimit.acquire(config.send_rate_per_second, config.send_burst)
        user, campaign = message.user, message.campaign
        state = _shopper_state(user=user, subscriber=subscriber, topic=campaign.topic)
        now = timezone.now()  # after the locks: the moment the decision is made
        if campaign.status == Campaign.Status.CANCELLED:
            return _drop(message, rules.CANCELLED, "the campaign was cancelled", now)
        if not state.opted_in or not user.is_active:
            return _drop(message, rules.NOT_OPTED_IN, "no longer opted in to marketing", now)
        if state.suppressed:
            return _drop(message, rules.SUPPRESSED, "the address is suppressed", now)
        if state.muted:
            return _drop(message, rules.TOPIC_MUTED, f"topic “{campaign.topic}” turned off", now)
        verdict = rules.decide(
            budget=rules.Budget.for_shopper(config, state.frequency),
            desired=now,
            counted=state.sent_times,
            streak=state.streak,
            tz=rules.zone(state.time_zone, config.default_time_zone),
            policy=campaign.held_policy,
            paused_until=state.paused_until,
        )
        if verdict.outcome == "dropped":
            return _drop(message, verdict.rule, verdict.reason, now)
        if verdict.outcome == "deferred":
            message.slot_at = message.next_attempt_at = verdict.at
            message.rule, message.reason = verdict.rule, verdict.reason[:200]
            message.save(update_fields=["slot_at", "next_attempt_at", "rule", "reason"])
            _log(
                message,
                OutreachDecision.Outcome.DEFERRED,
                verdict.rule,
                verdict.reason,
                until=verdict.at,
                now=now,
            )
            return "deferred"
        message.attempts += 1
        try:
            build_email(message=message, connection=connection).send()
        except Exception as exc:
            refusal = _refusal(exc)
            if refusal is None:
                raise
            return _refused(message, config, refusal, now)
        _mark_sent(message, now)
        return "sent"


# A sent message and its decision row in one round trip (PostgreSQL).
SENT_SQL = """
WITH sent AS (
    UPDATE outreach_outreachmessage
    SET status = 'sent', sent_at = %(now)s, slot_at = %(now)s, next_attempt_at = NULL,
        attempts = %(attempts)s, rule = %(rule)s, reason = 'sent', last_error = '',
        picks_source = %(picks_source)s
    WHERE id = %(id)s
    RETURNING id, user_id, campaign_id
)
INSERT INTO outreach_outreachdecision (message_id, user_id, campaign_id, outcome, rule, reason,
    until, decided_at)
SELECT id, user_id, campaign_id, %(outcome)s, %(rule)s, 'within the budget', NULL, %(now)s
FROM sent
"""


def _mark_sent(message, now) -> None:
    """Mark ``message`` sent at ``now`` and log the decision (one statement on PostgreSQL)."""
    message.status = OutreachMessage.Status.SENT
    message.sent_at = message.slot_at = now
    message.next_attempt_at = None
    message.rule, message.reason, message.last_error = rules.SENT, "sent", ""
    if db_connection.vendor != "postgresql":
        message.save()
        _log(message, OutreachDecision.Outcome.SENT, rules.SENT, "within the budget", now=now)
        return
    with db_connection.cursor() as cursor:
        cursor.execute(
            SENT_SQL,
            {
                "id": message.pk,
                "now": now,
                "attempts": message.attempts,
                "rule": rules.SENT,
                "outcome": OutreachDecision.Outcome.SENT,
                "picks_source": message.picks_source,
            },
        )


def _refused(message, config, refusal, now) -> str:
    code, text = refusal
    detail = f"{code} {text}"[:300]
    message.last_error = detail
    if code >= 500:
        from .services import suppression_add

        message.status = OutreachMessage.Status.BOUNCED
        message.slot_at = message.next_attempt_at = None
        message.rule, message.reason = rules.HARD_BOUNCE, f"refused: {detail}"[:200]
        message.save()
        suppression_add(
            email=message.email or message.user.email,
            reason=Suppression.Reason.HARD_BOUNCE,
            source=Suppression.Source.SMTP,
            detail=detail,
            message=message,
        )
        _log(message, OutreachDecision.Outcome.BOUNCED, rules.HARD_BOUNCE, detail, now=now)
        return "bounced"
    if message.attempts >= config.soft_bounce_max_attempts:
        message.status = OutreachMessage.Status.FAILED
        message.slot_at = message.next_attempt_at = None
        message.rule = rules.SOFT_BOUNCE
        message.reason = f"gave up after {message.attempts} temporary refusals"
        message.save()
        _log(message, OutreachDecision.Outcome.FAILED, rules.SOFT_BOUNCE, message.reason, now=now)
        return "failed"
    delay = timedelta(minutes=config.soft_bounce_backoff_minutes) * 2 ** (message.attempts - 1)
    message.next_attempt_at = now + delay
    message.rule = rules.SOFT_BOUNCE
    message.reason = f"temporary refusal ({detail}); retry {message.attempts + 1}"[:200]
    message.save()
    _log(
        message,
        OutreachDecision.Outcome.RETRY,
        rules.SOFT_BOUNCE,
        message.reason,
        until=message.next_attempt_at,
        now=now,
    )
    return "retry"


# Due message ids fetched per query: each is then claimed by primary key (a cheap lookup)
# instead of every claim sorting what is due.
CLAIM_BATCH = 100


def outbox_send_due(
    *, max_messages: int = 1000, max_seconds: float = 55.0, campaign_id: int | None = None
) -> dict[str, int]:
    """Send due messages until none is left, ``max_messages`` or ``max_seconds``.

    One SMTP connection for the whole run; each message still has its own transaction (see
    the module docstring). Due ids are read ``CLAIM_BATCH`` at a time in sending order and
    claimed one by one; an id another sender holds is skipped for this run. Returns counts by
    outcome, plus "more": 1 when it stopped with messages still due.
    """
    counts: dict[str, int] = {}
    config = BudgetSettings.current()
    deadline = time.monotonic() + max_seconds
    pending: deque[int] = deque()
    tried: set[int] = set()
    handled = 0
    connection = email_connection()
    connection.open()
    try:
        while True:
            if handled >= max_messages or time.monotonic() > deadline:
                counts["more"] = 1
                break
            if not pending:
                pending.extend(_due_ids(campaign_id, tried=tried, limit=CLAIM_BATCH))
            if pending:
                pk = pending.popleft()
                tried.add(pk)
            else:
                pk = None  # the general claim: shoppers without a Subscriber row, stragglers
            outcome = message_send_next(
                connection=connection, campaign_id=campaign_id, config=config, pk=pk
            )
            if outcome is None:
                if pk is None:
                    break
                continue
            handled += 1
            counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        connection.close()
    return counts
