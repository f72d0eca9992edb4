"""Segments: a rule tree stored as data, and its materialized membership with history.

``Segment.rules`` is a tree of groups and rules (see ``personalization.segments.rules``):
``{"op": "and" | "or", "rules": [<group or rule>, ...]}`` where a rule is
``{"type": "<registered type>", "params": {...}}``. The tree compiles to one SQL query over the
user model; ``SegmentMembership`` holds the result of the last refresh and
``SegmentMembershipHistory`` every entry and exit, with the rule version that decided it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Segment(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    rules = models.JSONField(
        default=dict, blank=True, help_text="The rule tree: groups combined with AND / OR."
    )
    is_builtin = models.BooleanField(
        default=False, help_text="Shipped with the store; the seeder keeps its rules."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive segments are not refreshed.")
    version = models.PositiveIntegerField(default=1, help_text="Bumped when the rules change.")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class SegmentMembership(models.Model):
    # No index of their own on the two foreign keys: the unique constraint (segment, user) and
    # the index on user cover every lookup, and each index costs every refresh write (a refresh
    # from empty inserts ~236,000 rows at 100,000 shoppers).
    segment = models.ForeignKey(
        Segment, related_name="memberships", on_delete=models.CASCADE, db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="segment_memberships",
        on_delete=models.CASCADE,
        db_index=False,
    )
    entered_at = models.DateTimeField(default=timezone.now)
    rule_version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "user"], name="one_membership_per_segment")
        ]
        indexes = [models.Index(fields=["user"], name="segment_membership_user")]

    def __str__(self):
        return f"{self.user_id} in {self.segment_id}"


class SegmentMembershipHistory(models.Model):
    class Action(models.TextChoices):
        ENTERED = "entered", "Entered"
        LEFT = "left", "Left"

    # (segment, -at) and (user, -at) below cover the foreign keys' lookups (see SegmentMembership)
    segment = models.ForeignKey(
        Segment, related_name="history", on_delete=models.CASCADE, db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        related_name="segment_history",
        on_delete=models.CASCADE,
        db_index=False,
    )
    action = models.CharField(max_length=8, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    rule_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-at"], name="segment_history_user_time"),
            models.Index(fields=["segment", "-at"], name="segment_history_seg_time"),
        ]
        verbose_name_plural = "segment membership history"

    def __str__(self):
        return f"{self.user_id} {self.action} {self.segment_id} at {self.at:%Y-%m-%d %H:%M}"


class ProfileSnapshot(models.Model):
    """The narrow columns of the preference profile that segment rules read, copied once per
    refresh run into a temporary table (PostgreSQL, ``ON COMMIT DROP``).

    A profile row is ~0.5 kB (~1.2 kB while affinities were JSON) and the table outgrows
    shared_buffers at 100,000 shoppers: each segment re-read it. The refresh copies these
    columns once (~60 B a row) and every rule except affinity reads the copy (EXPLAIN ANALYZE
    in docs/segments.md).
    Never migrated: ``services.refresh_snapshot_create`` makes it for the run's transaction.
    """

    user_id = models.IntegerField(primary_key=True)
    order_count = models.PositiveIntegerField(default=0)
    monetary = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    last_purchase_at = models.DateTimeField(null=True)
    sentiment_sum = models.FloatField(default=0)
    sentiment_count = models.PositiveIntegerField(default=0)
    intents = models.JSONField(default=dict)
    demographics = models.JSONField(default=dict)

    class Meta:
        managed = False
        db_table = "segments_profile_snapshot"

    def __str__(self):
        return f"profile of {self.user_id}"


class ConsentSnapshot(models.Model):
    """(shopper, category) whose latest consent record is a grant, copied once per refresh run
    into a temporary table (PostgreSQL), so demographic rules do not look up each member's
    latest consent record one by one."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.IntegerField()
    category = models.CharField(max_length=40)

    class Meta:
        managed = False
        db_table = "segments_consent_snapshot"

    def __str__(self):
        return f"{self.user_id} shares {self.category}"
