"""Personal access tokens: what a script or app presents instead of a session.

Only a SHA-256 digest of the token is stored; the token itself is shown once, at creation. A
token is 256 random bits, so a fast unsalted digest is enough (the same choice as GitHub's and
PyPI's tokens): guessing is hopeless and a leaked table reveals nothing usable.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Scope(models.TextChoices):
    READ = "read", "Read: see the catalogue, your account, orders, likes and posts"
    WRITE = "write", "Write: change your cart, order, like, review, post, follow"
    STAFF = "staff", "Staff: the staff endpoints your staff role allows (staff accounts only)"


class PersonalAccessTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class PersonalAccessToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="api_tokens", on_delete=models.CASCADE
    )
    name = models.CharField(max_length=80, help_text="What the token is for, e.g. 'stock sync'.")
    prefix = models.CharField(max_length=16, help_text="The token's first characters, to spot it.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, help_text="A subset of read, write, staff.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = PersonalAccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
