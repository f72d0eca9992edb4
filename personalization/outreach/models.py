"""Email outreach: campaigns, the shopper's attention budget, the outbox and its decisions.

Invariants kept by the database:
- one outbox row per campaign and shopper (``one_message_per_campaign_and_shopper``) and one
  Message-ID per row (unique), so planning twice or two planners add nothing twice;
- the attention budget is settled under a lock on the shopper's ``Subscriber`` row: every
  planner and sender takes that row ``FOR UPDATE`` before it counts and reserves, so two
  campaigns at once see each other's reservations (see ``budget.py``);
- consent to marketing email is an append-only ``MarketingConsentRecord`` history; the
  current state is copied onto ``Subscriber.marketing_opt_in`` in the same transaction;
- suppressions are kept by reason (hard bounce, complaint): one row per address and reason.
"""

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class BudgetSettings(models.Model):
    """The attention budget every shopper gets, across all campaigns (a single row, id 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    max_per_window = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1)],
        help_text="At most this many marketing emails per shopper in the rolling window.",
    )
    window_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1)], help_text="Length of the rolling window."
    )
    min_gap_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Minimum time between two marketing emails to one shopper."
    )
    quiet_start = models.TimeField(
        default=time(21, 0), help_text="Quiet hours start, in the shopper's own time zone."
    )
    quiet_end = models.TimeField(
        default=time(8, 0), help_text="Quiet hours end; held messages go out from here."
    )
    default_time_zone = models.CharField(
        max_length=64, default="Europe/Oslo", help_text="For shoppers without a time zone."
    )
    send_rate_per_second = models.FloatField(
        default=50.0,
        validators=[MinValueValidator(0.1)],
        help_text="Global send rate (token bucket in Redis), all workers together.",
    )
    send_burst = models.PositiveIntegerField(
        default=50, validators=[MinValueValidator(1)], help_text="Token bucket capacity."
    )
    backoff_after = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1)],
        help_text="After this many emails in a row without an open or click, use the longer gap.",
    )
    backoff_gap_hours = models.PositiveSmallIntegerField(
        default=96, help_text="The longer gap for shoppers who stopped engaging."
    )
    pause_after = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1)],
        help_text="This many more unopened emails and the shopper is paused until they "
        "engage again (visit, order, open, click).",
    )
    soft_bounce_max_attempts = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    soft_bounce_backoff_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="First retry after a temporary refusal; doubles each time."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "attention budget"
        verbose_name_plural = "attention budget"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="one_budget_settings_row")]

    def __str__(self):
        return (
            f"{self.max_per_window} per {self.window_days} days, gap {self.min_gap_hours} h, "
            f"quiet {self.quiet_start:%H:%M}–{self.quiet_end:%H:%M}"
        )

    def clean(self):
        from django.core.exceptions import ValidationError

        from .budget import zone

        if zone(self.default_time_zone, "").key != self.default_time_zone:
            raise ValidationError({"default_time_zone": "Not a time zone we know."})

    @classmethod
    def current(cls) -> "BudgetSettings":
        obj, _ = cls.objects.get_or_create(id=1)
        return obj


class Subscriber(models.Model):
    """A shopper's marketing-email state: consent, zone, frequency. The budget lock row."""

    class Frequency(models.TextChoices):
        NORMAL = "normal", "Normal"
        FEWER = "fewer", "Fewer emails"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        related_name="outreach_subscriber",
        on_delete=models.CASCADE,
    )
    marketing_opt_in = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=64, blank=True)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.NORMAL)
    paused_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user"], name="subscriber_opted_in", condition=Q(marketing_opt_in=True)
            )
        ]

    def __str__(self):
        return f"{self.user_id}: {'opted in' if self.marketing_opt_in else 'not opted in'}"


class MarketingConsentRecord(models.Model):
    """One change of a shopper's consent to marketing email. Append-only: never updated."""

    class Action(models.TextChoices):
        GRANTED = "granted", "Opted in"
        REVOKED = "revoked", "Opted out"

    class Source(models.TextChoices):
        SIGNUP = "signup", "Sign-up form"
        PERMISSION_SCREEN = "permission_screen", "Social sign-in permission screen"
        ACCOUNT = "account", "Email preferences page"
        ONE_CLICK = "one_click", "One-click unsubscribe in an email"
        MAILTO = "mailto", "Unsubscribe email"
        COMPLAINT = "complaint", "Spam complaint"
        ADMIN = "admin", "Staff, on the shopper's request"
        DEMO = "demo", "Demo data"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="marketing_consent_records",
        on_delete=models.CASCADE,
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    policy_version = models.CharField(max_length=20)
    message = models.ForeignKey(
        "outreach.OutreachMessage",
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        help_text="The email whose link was used, for unsubscribes from an email.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-id"], name="mkt_consent_user")]

    def __str__(self):
        return f"{self.user_id} {self.action} marketing email ({self.source})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Consent records are append-only.")
        super().save(*args, **kwargs)


class TopicOptOut(models.Model):
    """A topic the shopper does not want (preference centre)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="outreach_topic_opt_outs", on_delete=models.CASCADE
    )
    topic = models.CharField(max_length=30)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="one_opt_out_per_topic")
        ]

    def __str__(self):
        return f"{self.user_id} muted {self.topic}"


class Suppression(models.Model):
    """An address that must not get marketing email: a hard bounce or a complaint, kept apart."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"

    class Source(models.TextChoices):
        SMTP = "smtp", "Refused at send time (SMTP 5xx)"
        WEBHOOK = "webhook", "Reported back by the email provider"
        ADMIN = "admin", "Added by staff"

    email = models.EmailField(help_text="Stored in lower case.")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    detail = models.TextField(blank=True)
    message = models.ForeignKey(
        "outreach.OutreachMessage",
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["email", "reason"], name="one_suppression_per_reason")
        ]

    def __str__(self):
        return f"{self.email} ({self.get_reason_display()})"


class Campaign(models.Model):
    """A marketing email to segments: templates, picks, optional coupon, schedule, policy."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PLANNED = "planned", "Planned (sending)"
        CANCELLED = "cancelled", "Cancelled"

    class HeldPolicy(models.TextChoices):
        DEFER = "defer", "Defer to the next allowed moment"
        DROP = "drop", "Drop"

    name = models.CharField(max_length=120)
    segments = models.ManyToManyField(
        "segments.Segment",
        related_name="campaigns",
        blank=True,
        help_text="Shoppers in any of these segments are targeted (if opted in).",
    )
    topic = models.CharField(max_length=30, default="offers")
    subject_template = models.CharField(
        max_length=200, help_text="Django template: {{ first_name }}, {{ picks.0.name }} …"
    )
    html_template = models.TextField(help_text="Django template for the HTML part.")
    text_template = models.TextField(help_text="Django template for the plain-text part.")
    picks_count = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(8)], help_text="Personal product picks (0–8)."
    )
    coupon_ref = models.CharField(
        max_length=80,
        blank=True,
        help_text="Optional coupon: a reference the coupon hook understands (see docs/outreach).",
    )
    send_at = models.DateTimeField(
        null=True, blank=True, help_text="When to start (UTC); empty means now once scheduled."
    )
    ends_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Until then, shoppers who join a target segment after planning get the "
        "campaign too (once each). Empty: only the members when it was planned.",
    )
    held_policy = models.CharField(
        max_length=10, choices=HeldPolicy.choices, default=HeldPolicy.DEFER
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    planned_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(send_at__isnull=True)
                | Q(ends_at__gt=models.F("send_at")),
                name="campaign_ends_after_it_starts",
                violation_error_message="The campaign must end after it starts.",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.ends_at and self.send_at and self.ends_at <= self.send_at:
            from django.core.exceptions import ValidationError

            raise ValidationError({"ends_at": "The campaign must end after it starts."})

    def takes_new_members(self, now) -> bool:
        """True while shoppers who join a target segment are still added (``ends_at``)."""
        return self.ends_at is not None and self.ends_at > now


#: ``OutreachMessage.picks_source`` values (``outreach.picks.SOURCE_*``) in words for staff.
PICKS_SOURCES = {
    "recommender": "the store's recommender (personal picks)",
    "popular": "the store's recommender (its popular list)",
    "fallback": "outreach's popular-in-your-categories rule (the recommender had nothing)",
    "none": "none",
}


class OutreachMessageQuerySet(models.QuerySet):
    def counted(self):
        """Messages that use up budget: reserved (planned, being sent) or sent."""
        return self.filter(status__in=OutreachMessage.COUNTED)

    def due(self, now):
        return self.filter(status=OutreachMessage.Status.PLANNED, next_attempt_at__lte=now)


class OutreachMessage(models.Model):
    """The outbox: one row per campaign and shopper, with a Message-ID fixed before sending.

    ``slot_at`` is when the message counts against the shopper's budget: the reserved moment
    while planned, the actual send time once sent. ``next_attempt_at`` is when a sender may
    take it (the slot, or later after a temporary refusal).
    """

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        SENT = "sent", "Sent"
        DROPPED = "dropped", "Dropped"
        BOUNCED = "bounced", "Hard bounce"
        FAILED = "failed", "Failed (gave up retrying)"

    COUNTED = [Status.PLANNED, Status.SENT]

    # Both are indexed by the unique constraint (campaign, user) and the (user, slot_at) index.
    campaign = models.ForeignKey(
        Campaign, related_name="messages", on_delete=models.CASCADE, db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="outreach_messages",
        on_delete=models.CASCADE,
        db_index=False,
    )
    email = models.EmailField(blank=True)
    message_id = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    slot_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    rule = models.CharField(max_length=30, blank=True, help_text="The rule of the last decision.")
    reason = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    picks_source = models.CharField(  # db_default: the set-based planner inserts rows in SQL
        max_length=20,
        blank=True,
        default="",
        db_default="",
        help_text="Where the sent email's picks came from: recommender, popular, fallback, none.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = OutreachMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "user"], name="one_message_per_campaign_and_shopper"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due",
                condition=Q(status="planned"),
            ),
            models.Index(fields=["user", "slot_at"], name="outbox_user_slot"),
        ]

    def __str__(self):
        return f"{self.campaign_id} → {self.user_id} ({self.status})"

    @property
    def why(self) -> str:
        """The stored decision as one sentence for staff (CRM): what happened and the rule
        that said so, read from this row (``rule``, ``reason``, ``slot_at``), never guessed.
        Times are UTC."""
        reason = self.reason or self.rule
        if self.status == self.Status.PLANNED:
            when = f"{self.slot_at:%d %b %H:%M} UTC" if self.slot_at else "later"
            if self.rule in ("", "on_time"):
                return f"Planned for {when}, within the budget"
            return f"Deferred to {when}: {reason}"
        if self.status == self.Status.SENT:
            source = PICKS_SOURCES.get(self.picks_source)
            return "Sent within the budget" + (f"; picks: {source}" if source else "")
        if self.status == self.Status.DROPPED:
            return f"Not sent: {reason}"
        return reason  # bounced or failed: the reason names the refusal


class OutreachDecision(models.Model):
    """Why a message was sent, deferred or dropped: the rule that decided, at that moment."""

    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        DEFERRED = "deferred", "Deferred"
        DROPPED = "dropped", "Dropped"
        SENT = "sent", "Sent"
        RETRY = "retry", "Temporary refusal, will retry"
        BOUNCED = "bounced", "Hard bounce"
        FAILED = "failed", "Failed"

    message = models.ForeignKey(OutreachMessage, related_name="decisions", on_delete=models.CASCADE)
    # ``user`` and ``campaign`` are copies of the message's (set in the same statement), kept
    # for the shopper's and the campaign's decision logs. The database checks the message's
    # foreign key only: a planned campaign writes 100,000 decisions, and checking the same
    # user and campaign twice per row cost a third of the planning commit. Deleting a user or
    # campaign still cascades here (Django's collector), and the message's own keys hold.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="outreach_decisions",
        on_delete=models.CASCADE,
        db_index=False,  # the (user, -decided_at) index serves it
        db_constraint=False,
    )
    campaign = models.ForeignKey(
        Campaign, related_name="decisions", on_delete=models.CASCADE, db_constraint=False
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    rule = models.CharField(max_length=30)
    reason = models.CharField(max_length=200)
    until = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["user", "-decided_at"], name="decision_user_time")]

    def __str__(self):
        return f"{self.outcome}: {self.reason}"


class CampaignTestSend(models.Model):
    """One staff "send this test" click: the claim that makes the ``outreach.send_test`` task
    send it once. ``key`` is made when staff click (the task's argument); the task locks the
    row while ``sent_at`` is null, sends, and sets ``sent_at`` in the same transaction, so a
    retried or twice-delivered task (or a parked call published again) sends nothing twice.
    Holds no personal data: the shopper and the address travel in the task's arguments."""

    key = models.UUIDField(unique=True)
    campaign = models.ForeignKey(Campaign, related_name="test_sends", on_delete=models.CASCADE)
    requested_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return f"Test of {self.campaign_id} ({'sent' if self.sent_at else 'owed'})"
