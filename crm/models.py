"""The CRM's own rows: notes, follow-up tasks, tags, the staff audit log and export jobs.

``Customer`` is a proxy of the user model so the 360 page and the customer list have their own
admin (and permissions) without touching ``auth.User``'s admin.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Customer(get_user_model()):
    """A shopper as staff see them: the 360 page is this proxy's change view."""

    class Meta:
        proxy = True
        verbose_name = "customer"
        verbose_name_plural = "customers"
        permissions = [
            ("merge_customer", "Can merge duplicate customers"),
            ("view_dashboard", "Can view the CRM dashboard"),
            ("import_customer", "Can import customers"),
            ("export_customer", "Can export customers"),
        ]


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)
    slug = models.SlugField(max_length=40, unique=True)
    colour = models.CharField(
        max_length=7, default="#2f6f4f", help_text="Badge colour, e.g. #2f6f4f (white text)."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CustomerTag(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="crm_tags", on_delete=models.CASCADE
    )
    tag = models.ForeignKey(Tag, related_name="customer_tags", on_delete=models.CASCADE)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tag__name"]
        constraints = [models.UniqueConstraint(fields=["user", "tag"], name="one_tag_per_customer")]
        indexes = [models.Index(fields=["tag", "user"], name="crm_tag_members")]

    def __str__(self):
        return f"{self.user_id} #{self.tag_id}"


class Note(models.Model):
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="crm_notes", on_delete=models.CASCADE
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="crm_note_customer")]

    def __str__(self):
        return self.body[:60]


class Task(models.Model):
    """A follow-up: open until ``done_at`` is set."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="crm_tasks", on_delete=models.CASCADE
    )
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="crm_assigned_tasks",
        on_delete=models.SET_NULL,
        limit_choices_to={"is_staff": True},
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(
                fields=["assignee", "due_on"],
                name="crm_task_open",
                condition=Q(done_at__isnull=True),
            ),
            models.Index(fields=["customer", "-created_at"], name="crm_task_customer"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.done_at is None


class AuditEntry(models.Model):
    """Who did what to which customer, when. Append-only; readable by the Admin role only."""

    class Action(models.TextChoices):
        VIEW_360 = "view_360", "Viewed a customer 360 page"
        EXPORT = "export", "Exported data"
        IMPORT = "import", "Imported data"
        MERGE = "merge", "Merged duplicate customers"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="crm_audit_entries",
        on_delete=models.SET_NULL,
    )
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["customer", "-at"], name="crm_audit_customer"),
            models.Index(fields=["action", "-at"], name="crm_audit_action"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} by {self.actor_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit entries are append-only.")
        super().save(*args, **kwargs)


class ExportJob(models.Model):
    """An export too large for one request: a Celery task writes the file, staff download it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        DONE = "done", "Ready to download"
        FAILED = "failed", "Failed"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    resource = models.CharField(max_length=40)
    file_format = models.CharField(max_length=10, default="csv")
    params = models.JSONField(default=dict, blank=True, help_text="The rows asked for (ids).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="crm_exports/", blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.resource} export {self.pk} ({self.status})"
