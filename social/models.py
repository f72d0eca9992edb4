"""The store's social graph (Connection), consent history (ConsentRecord) and shared social data."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Connection(models.Model):
    """A directed edge: ``follower`` follows ``followed``.

    ``kind`` says where it came from: a follow on Agora, or a friendship imported from a social
    provider (only while the shopper grants the friends category).
    """

    class Kind(models.TextChoices):
        FOLLOW = "follow", "Follows"
        FRIEND = "friend", "Friend on a social network"

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="following_edges", on_delete=models.CASCADE
    )
    followed = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="follower_edges", on_delete=models.CASCADE
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FOLLOW)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["follower", "followed", "kind"], name="one_connection_per_kind"
            ),
            models.CheckConstraint(condition=~Q(follower=F("followed")), name="no_self_follow"),
        ]
        indexes = [models.Index(fields=["followed", "kind"])]

    def __str__(self):
        return f"{self.follower_id} → {self.followed_id} ({self.kind})"


class ConsentRecord(models.Model):
    """One change of a shopper's consent for one category. Append-only: never updated.

    The current state of a category is its latest record; the whole list is the history shown
    to the shopper and to staff.
    """

    class Action(models.TextChoices):
        GRANTED = "granted", "Granted"
        REVOKED = "revoked", "Revoked"

    class Source(models.TextChoices):
        PERMISSION_SCREEN = "permission_screen", "Permission screen at sign-in"
        PRIVACY_PAGE = "privacy_page", "Privacy & sharing page"
        DISCONNECT = "disconnect", "Social account disconnected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="consent_records", on_delete=models.CASCADE
    )
    category = models.CharField(max_length=20)
    action = models.CharField(max_length=10, choices=Action.choices)
    source = models.CharField(max_length=30, choices=Source.choices)
    provider = models.CharField(max_length=40, blank=True)
    policy_version = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "category", "-id"], name="consent_user_cat")]

    def __str__(self):
        return f"{self.user_id} {self.action} {self.category} ({self.source})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Consent records are append-only.")
        super().save(*args, **kwargs)

    @property
    def category_title(self) -> str:
        from .consent import CATEGORIES

        category = CATEGORIES.get(self.category)
        return category.title if category else self.category


class SocialProfile(models.Model):
    """What the shopper shares from a social account: granted categories only, reduced.

    Empty values mean "not shared" (or shared but unusable); revoking a category empties its
    fields in the same transaction that records the revocation. Friends are not kept here: they
    become ``Connection`` rows of kind "friend" (see ``services.friends_sync``).
    """

    class Gender(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        NONBINARY = "nonbinary", "Non-binary"
        OTHER = "other", "Other"

    class Relationship(models.TextChoices):
        SINGLE = "single", "Single"
        IN_RELATIONSHIP = "in_relationship", "In a relationship"
        ENGAGED = "engaged", "Engaged"
        MARRIED = "married", "Married"
        COMPLICATED = "complicated", "It's complicated"
        SEPARATED = "separated", "Separated"
        DIVORCED = "divorced", "Divorced"
        WIDOWED = "widowed", "Widowed"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="social_profile", on_delete=models.CASCADE
    )
    provider = models.CharField(max_length=40)
    display_name = models.CharField(max_length=150, blank=True)
    age_band = models.CharField(max_length=10, blank=True)
    birthday_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_day = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=20, blank=True, choices=Gender.choices)
    relationship_status = models.CharField(max_length=20, blank=True, choices=Relationship.choices)
    interests = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Social profile of {self.user_id}"
