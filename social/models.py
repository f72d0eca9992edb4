"""The store's social graph. Consent and social-profile models join this module."""

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
