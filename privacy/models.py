"""Privacy operations: data exports, erasure requests, anonymous consent proof, the audit log.

Invariants kept by the database: at most one pending export and one open (scheduled or
running) erasure per shopper (partial unique constraints), so a double click or two staff
members acting at once create one job, never two.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class PrivacySettings(models.Model):
    """Store-wide privacy settings that staff change in the admin (a single row, id 1)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    erasure_grace_days = models.PositiveSmallIntegerField(
        "grace period (days)",
        default=0,
        help_text="Days between a shopper asking to delete their account and the deletion. "
        "They can cancel until then. 0 deletes at once.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "privacy settings"

    def __str__(self):
        return "Privacy settings"

    @classmethod
    def current(cls) -> "PrivacySettings":
        return cls.objects.get_or_create(pk=1)[0]


class DataExport(models.Model):
    """One "Download my data" archive: built by a task, downloadable through a signed link
    until ``expires_at``."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="data_exports", on_delete=models.CASCADE
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        help_text="The staff member who asked for it (empty: the shopper).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file_name = models.CharField(max_length=200, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    files = models.JSONField(default=list, blank=True, help_text="Files in the archive.")
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    # When the "ready" email went out: a re-run email task sends nothing twice (issue 16).
    ready_emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="one_pending_export_per_shopper",
            )
        ]

    def __str__(self):
        return f"Export {self.pk} of {self.user_id} ({self.status})"

    @property
    def is_downloadable(self) -> bool:
        return (
            self.status == self.Status.READY
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )


class ErasureRequest(models.Model):
    """A request to erase a shopper's account: scheduled for after the grace period, then
    carried out by a task through the privacy registry. The row stays as the proof that it was
    done (the account it points at is an empty shell by then)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        related_name="erasure_requests",
        on_delete=models.SET_NULL,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        help_text="The staff member who asked for it (empty: the shopper).",
    )
    reason = models.CharField(max_length=300, blank=True)
    keep_content = models.BooleanField(
        default=False,
        help_text="Keep reviews, questions, answers and forum posts as 'Former member'.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True
    )
    requested_at = models.DateTimeField(default=timezone.now)
    scheduled_for = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="Rows touched per kind.")
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["scheduled", "running"]),
                name="one_open_erasure_per_shopper",
            )
        ]
        indexes = [models.Index(fields=["status", "scheduled_for"], name="erasure_due")]

    def __str__(self):
        return f"Erasure {self.pk} ({self.status})"


class ConsentProof(models.Model):
    """A consent record of an erased shopper: what was granted or revoked, when, where and
    under which policy, with no link to who (GDPR art. 7(1): the store must be able to show
    consent was given)."""

    erasure = models.ForeignKey(
        ErasureRequest, related_name="consent_proofs", on_delete=models.PROTECT
    )
    category = models.CharField(max_length=20)
    action = models.CharField(max_length=10)
    source = models.CharField(max_length=30)
    provider = models.CharField(max_length=40, blank=True)
    policy_version = models.CharField(max_length=20)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["erasure", "created_at", "pk"]

    def __str__(self):
        return f"{self.action} {self.category} at {self.created_at:%Y-%m-%d}"


class AuditEntry(models.Model):
    """Who did what with whose personal data: exports and erasures, by shoppers and staff.

    Append-only. The CRM's audit log (when it exists) can adopt these rows; until then this is
    the audit log of privacy operations, readable in the admin.
    """

    class Action(models.TextChoices):
        EXPORT_REQUESTED = "export_requested", "Export requested"
        EXPORT_READY = "export_ready", "Export ready"
        EXPORT_DOWNLOADED = "export_downloaded", "Export downloaded"
        ERASURE_REQUESTED = "erasure_requested", "Erasure requested"
        ERASURE_CANCELLED = "erasure_cancelled", "Erasure cancelled"
        ERASURE_DONE = "erasure_done", "Erasure carried out"

    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
        help_text="Who acted (empty: the system).",
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="privacy_audit_entries",
        on_delete=models.SET_NULL,
        help_text="Whose data.",
    )
    by_staff = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "privacy audit entry"
        verbose_name_plural = "privacy audit log"

    def __str__(self):
        return f"{self.get_action_display()} ({self.subject_id})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit entries are append-only.")
        super().save(*args, **kwargs)
