"""Writes of outreach: consent to marketing email, preferences, suppression, unsubscribe,
open and click tracking, campaign scheduling. Planning is in ``planning.py``, sending in
``sending.py``; both are called through the functions here or the tasks.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from personalization import events

from . import topics
from .exceptions import CampaignNotDraft, OutreachError
from .models import (
    Campaign,
    CampaignTestSend,
    MarketingConsentRecord,
    OutreachMessage,
    Subscriber,
    Suppression,
    TopicOptOut,
)

MAX_PAUSE_WEEKS = 26


def _policy_version() -> str:
    return settings.AGORA_PRIVACY_POLICY_VERSION


def subscriber_for_update(*, user) -> Subscriber:
    """The shopper's ``Subscriber`` row, created if missing, locked ``FOR UPDATE``.

    Every writer of a shopper's budget or consent takes this lock first: it is what makes two
    campaigns, a sender and an unsubscribe at the same moment take turns.
    """
    Subscriber.objects.get_or_create(user_id=user.pk)
    return Subscriber.objects.select_for_update().get(user_id=user.pk)


@transaction.atomic
def marketing_consent_set(
    *, user, opted_in: bool, source: str, message: OutreachMessage | None = None
) -> MarketingConsentRecord | None:
    """Opt the shopper in to (or out of) marketing email, leaving a consent record.

    Idempotent: when the state does not change nothing is recorded and None is returned.
    Opting out takes effect at once: planned messages are dropped by the sender, which checks
    consent under the same lock before every send. ``source`` is a
    ``MarketingConsentRecord.Source`` value.
    """
    if source not in MarketingConsentRecord.Source.values:
        raise OutreachError("Unknown consent source.")
    subscriber = subscriber_for_update(user=user)
    if subscriber.marketing_opt_in == opted_in:
        return None
    subscriber.marketing_opt_in = opted_in
    subscriber.save(update_fields=["marketing_opt_in", "updated_at"])
    return MarketingConsentRecord.objects.create(
        user=user,
        action=(
            MarketingConsentRecord.Action.GRANTED
            if opted_in
            else MarketingConsentRecord.Action.REVOKED
        ),
        source=source,
        policy_version=_policy_version(),
        message=message,
    )


def validate_time_zone(name: str) -> str:
    """``name`` if it is an IANA time zone (e.g. "Europe/Oslo"); raises ``OutreachError``."""
    name = (name or "").strip()
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise OutreachError(f"“{name[:60]}” is not a time zone we know.") from None
    if "/" not in name and name != "UTC":
        raise OutreachError(f"“{name[:60]}” is not a time zone we know.")
    return name


@transaction.atomic
def preferences_update(
    *,
    user,
    opted_in: bool,
    muted_topics: set[str],
    frequency: str,
    pause_weeks: int | None = 0,
    time_zone: str = "",
    source: str = MarketingConsentRecord.Source.ACCOUNT,
) -> Subscriber:
    """Save the preference centre: consent, topics turned off, frequency, a pause, the zone.

    ``frequency`` is "normal" or "fewer"; ``pause_weeks`` (0–26) pauses marketing email from
    now for that many weeks (0 ends a pause, None keeps the current one). Raises
    ``OutreachError`` on bad input, before anything is written.
    """
    unknown = set(muted_topics) - set(topics.codes())
    if unknown:
        raise OutreachError("Unknown topic: " + ", ".join(sorted(unknown)))
    if frequency not in Subscriber.Frequency.values:
        raise OutreachError("Choose normal or fewer emails.")
    if pause_weeks is not None and not 0 <= pause_weeks <= MAX_PAUSE_WEEKS:
        raise OutreachError(f"A pause lasts between 1 and {MAX_PAUSE_WEEKS} weeks.")
    time_zone = validate_time_zone(time_zone)
    marketing_consent_set(user=user, opted_in=opted_in, source=source)
    subscriber = subscriber_for_update(user=user)
    subscriber.frequency = frequency
    subscriber.time_zone = time_zone
    if pause_weeks is not None:
        subscriber.paused_until = (
            timezone.now() + timedelta(weeks=pause_weeks) if pause_weeks else None
        )
    subscriber.save()
    TopicOptOut.objects.filter(user=user).exclude(topic__in=muted_topics).delete()
    TopicOptOut.objects.bulk_create(
        [TopicOptOut(user=user, topic=t) for t in sorted(muted_topics)], ignore_conflicts=True
    )
    return subscriber


def _normalise(email: str) -> str:
    return (email or "").strip().lower()


def suppression_add(
    *,
    email: str,
    reason: str,
    source: str,
    detail: str = "",
    message: OutreachMessage | None = None,
) -> Suppression:
    """Suppress ``email`` from marketing for ``reason`` (hard bounce or complaint).

    Idempotent per address and reason (the first report is kept). A complaint also records the
    shopper's opt-out, so their consent history says why mail stopped.
    """
    email = _normalise(email)
    if reason not in Suppression.Reason.values:
        raise OutreachError("Unknown suppression reason.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                suppression = Suppression.objects.create(
                    email=email, reason=reason, source=source, detail=detail[:2000], message=message
                )
        except IntegrityError:
            suppression = Suppression.objects.get(email=email, reason=reason)
        if reason == Suppression.Reason.COMPLAINT:
            for user in get_user_model().objects.filter(email__iexact=email):
                marketing_consent_set(
                    user=user,
                    opted_in=False,
                    source=MarketingConsentRecord.Source.COMPLAINT,
                    message=message,
                )
    return suppression


def message_for_token(token: str) -> OutreachMessage | None:
    """The message a signed link names, or None for a forged or broken link."""
    from .links import unsign_message

    pk = unsign_message(token)
    if pk is None:
        return None
    return OutreachMessage.objects.select_related("user", "campaign").filter(pk=pk).first()


def unsubscribe_one_click(*, message: OutreachMessage, source: str) -> bool:
    """RFC 8058 one-click (or mailto) unsubscribe of the message's shopper from all marketing.

    Returns True when they were opted in until now. Idempotent.
    """
    record = marketing_consent_set(
        user=message.user, opted_in=False, source=source, message=message
    )
    return record is not None


@transaction.atomic
def message_opened(*, message: OutreachMessage) -> bool:
    """Record the first open of a message (open pixel): ``opened_at`` and an email_open event.

    Later opens change nothing. Returns True on the first open.
    """
    now = timezone.now()
    first = OutreachMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(
        opened_at=now
    )
    if first:
        events.record(
            "email_open",
            user=message.user,
            occurred_at=now,
            campaign=message.campaign_id,
            message=message.pk,
        )
    return bool(first)


@transaction.atomic
def message_clicked(*, message: OutreachMessage, url: str, product_id: int | None) -> None:
    """Record a click on a tracked link: ``clicked_at`` (first), an email_click event (each).

    A click implies the email was opened (images may be blocked), so ``opened_at`` is set too.
    """
    now = timezone.now()
    OutreachMessage.objects.filter(pk=message.pk, clicked_at__isnull=True).update(clicked_at=now)
    OutreachMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(opened_at=now)
    product = None
    if product_id:
        from shop.models import Product

        product = Product.objects.filter(pk=product_id).first()
    events.record(
        "email_click",
        user=message.user,
        product=product,
        occurred_at=now,
        campaign=message.campaign_id,
        message=message.pk,
        url=url[:500],
    )


@transaction.atomic
def campaign_schedule(*, campaign: Campaign) -> Campaign:
    """Schedule a draft campaign; planning runs in a task after commit.

    Raises ``OutreachError`` when it is not a draft or has no target segment.
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise OutreachError("Only a draft campaign can be scheduled.")
    from .planning import campaign_segment_ids

    if not campaign_segment_ids(campaign):
        raise OutreachError("Choose at least one target segment first.")
    from .rendering import check_templates

    check_templates(campaign)
    campaign.status = Campaign.Status.SCHEDULED
    campaign.save(update_fields=["status"])
    from .tasks import plan_campaign

    pk = campaign.pk
    transaction.on_commit(lambda: plan_campaign.delay(pk))
    return campaign


@transaction.atomic
def campaign_test_send(*, campaign: Campaign, shopper, to: str) -> CampaignTestSend:
    """Ask for one staff test of ``campaign`` rendered for ``shopper``, sent to ``to``.

    Stores the claim row (``CampaignTestSend``) and enqueues ``outreach.send_test`` after
    commit; the email goes out once however often that task runs. Raises ``OutreachError``
    when ``to`` is empty.
    """
    import uuid

    if not to:
        raise OutreachError("Your staff account has no email address to send the test to.")
    test = CampaignTestSend.objects.create(key=uuid.uuid4(), campaign=campaign)
    from .tasks import send_test

    args = (campaign.pk, shopper.pk, to, str(test.key))
    transaction.on_commit(lambda: send_test.delay(*args))
    return test


def campaign_test_send_deliver(*, key: str, campaign_id: int, shopper_id: int, to: str) -> bool:
    """Send the test asked for as ``key`` unless it went out already; returns whether it was
    sent now.

    The claim row is locked (SKIP LOCKED: a second copy running at the same moment finds
    nothing and returns False) while the email goes out, and ``sent_at`` is set in the same
    transaction, so a retried or duplicated task sends nothing twice; an SMTP failure
    (``OSError``) rolls back and leaves it owed for the task's retry. A key with no row (the
    campaign was deleted) sends nothing.
    """
    from .rendering import build_test_email
    from .sending import email_connection

    with transaction.atomic():
        test = (
            CampaignTestSend.objects.select_for_update(skip_locked=True)
            .filter(key=key, campaign_id=campaign_id, sent_at__isnull=True)
            .select_related("campaign")
            .first()
        )
        if test is None:
            return False
        shopper = get_user_model().objects.get(pk=shopper_id)
        email = build_test_email(campaign=test.campaign, shopper=shopper, to=to)
        email.connection = email_connection()
        email.send()
        CampaignTestSend.objects.filter(pk=test.pk).update(sent_at=timezone.now())
    return True


@transaction.atomic
def campaign_cancel(*, campaign: Campaign) -> int:
    """Cancel a campaign: its messages not yet sent are dropped. Returns how many."""
    from .models import OutreachDecision

    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign.status = Campaign.Status.CANCELLED
    campaign.save(update_fields=["status"])
    now = timezone.now()
    pending = list(
        OutreachMessage.objects.select_for_update()
        .filter(campaign=campaign, status=OutreachMessage.Status.PLANNED)
        .values_list("pk", "user_id")
    )
    OutreachMessage.objects.filter(pk__in=[pk for pk, _ in pending]).update(
        status=OutreachMessage.Status.DROPPED,
        rule="cancelled",
        reason="the campaign was cancelled",
        slot_at=None,
        next_attempt_at=None,
    )
    OutreachDecision.objects.bulk_create(
        [
            OutreachDecision(
                message_id=pk,
                user_id=user_id,
                campaign=campaign,
                outcome=OutreachDecision.Outcome.DROPPED,
                rule="cancelled",
                reason="the campaign was cancelled",
                decided_at=now,
            )
            for pk, user_id in pending
        ]
    )
    return len(pending)


# The fields staff edit on a campaign, as the admin's form shows them (CampaignAdmin.fieldsets).
CAMPAIGN_FIELDS = [
    "name",
    "topic",
    "segments",
    "send_at",
    "ends_at",
    "held_policy",
    "subject_template",
    "html_template",
    "text_template",
    "picks_count",
    "coupon_ref",
]


@transaction.atomic
def campaign_save(*, data: dict, campaign_id: int | None = None, created_by=None) -> Campaign:
    """Create a draft campaign, or change a draft, validated as the admin's form validates it.

    ``data`` maps some of ``CAMPAIGN_FIELDS`` to form values (strings, numbers, ISO 8601
    datetimes, ``segments`` a list of segment ids); on a change the fields left out keep their
    value. Raises ``django.core.exceptions.ValidationError`` with a dict of field -> messages
    (nothing saved) on bad input, ``CampaignNotDraft`` when the campaign is no longer a draft
    (checked under a row lock, so a concurrent schedule wins cleanly) and
    ``Campaign.DoesNotExist`` for an unknown id.
    """
    from django.core.exceptions import ValidationError
    from django.forms import model_to_dict, modelform_factory

    instance = None
    initial: dict = {}
    if campaign_id is not None:
        instance = Campaign.objects.select_for_update().get(pk=campaign_id)
        if instance.status != Campaign.Status.DRAFT:
            raise CampaignNotDraft(
                f"Only a draft campaign can be changed; this one is {instance.status}."
            )
        initial = model_to_dict(instance, fields=CAMPAIGN_FIELDS)
        initial["segments"] = [s.pk for s in initial.get("segments", [])]
    unknown = sorted(set(data) - set(CAMPAIGN_FIELDS))
    if unknown:
        raise ValidationError({key: ["There is no such field."] for key in unknown[:10]})
    form_class = modelform_factory(Campaign, fields=CAMPAIGN_FIELDS)
    form = form_class(data={**initial, **data}, instance=instance)
    if not form.is_valid():
        raise ValidationError(
            {field: [str(m) for m in messages] for field, messages in form.errors.items()}
        )
    campaign = form.save(commit=False)
    if instance is None:
        campaign.created_by = created_by
    campaign.save()
    form.save_m2m()
    return campaign
