"""Likes, share links and their attribution, public profiles, the store's own social accounts.

Invariants kept by the database:
- one like per shopper per item (UniqueConstraint), so parallel clicks give one row;
- one share link per signed-in sharer (or anonymous visitor), item and channel, and a unique
  referral code (links shared while signed out join the shopper's at sign-in);
- one referral attribution per order.

Likes and share links point at any registered model (see ``likeable.py``) through a
ContentType and an object id, so reviews and forum posts can be liked and shared like products.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from social.names import validate_not_reserved


class Like(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="likes", on_delete=models.CASCADE
    )
    content_type = models.ForeignKey(ContentType, related_name="+", on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "content_type", "object_id"], name="one_like_per_shopper_per_item"
            )
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="like_target"),
            models.Index(fields=["user", "-created_at"], name="like_user_time"),
        ]

    def __str__(self):
        return f"{self.user_id} likes {self.content_type_id}:{self.object_id}"


class PublicProfile(models.Model):
    """What a shopper shows to others. Private by default: nothing is public until opted in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="public_profile", on_delete=models.CASCADE
    )
    handle = models.SlugField(
        max_length=40,
        unique=True,
        validators=[validate_not_reserved],
        help_text="Your profile address: /u/<handle>/",
    )
    display_name = models.CharField(max_length=60, blank=True, validators=[validate_not_reserved])
    bio = models.CharField(max_length=280, blank=True)
    is_public = models.BooleanField(
        "public profile",
        default=False,
        help_text="Others can see your profile page and follow you.",
    )
    likes_public = models.BooleanField(
        "show my likes",
        default=False,
        help_text="Your likes appear on your profile and as 'liked by' to people who follow you.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["is_public", "likes_public"], name="profile_public")]
        constraints = [
            models.UniqueConstraint(
                Lower("handle"),
                name="profile_handle_ci_unique",
                violation_error_message="This handle is taken.",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("engagement:profile", kwargs={"handle": self.handle})

    @property
    def name(self) -> str:
        return self.display_name or self.handle

    @property
    def shows_likes(self) -> bool:
        return self.is_public and self.likes_public


class ShareChannel(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    X = "x", "X"
    LINKEDIN = "linkedin", "LinkedIn"
    PINTEREST = "pinterest", "Pinterest"
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", "Email"
    COPY = "copy", "Copy link"
    NATIVE = "native", "Share…"


class ShareLink(models.Model):
    """A tracked link: who shared what through which channel, named by its referral code."""

    code = models.CharField(max_length=32, unique=True)
    sharer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="share_links",
        on_delete=models.SET_NULL,
    )
    anon_id = models.CharField(max_length=64, blank=True, db_index=True)
    content_type = models.ForeignKey(ContentType, related_name="+", on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    channel = models.CharField(max_length=12, choices=ShareChannel.choices)
    shares = models.PositiveIntegerField(default=0, help_text="Times the link was shared.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Links a shopper shared while signed out and claimed at sign-in keep their
            # anon_id (and code), so they never clash with the one the shopper made signed in.
            models.UniqueConstraint(
                fields=["sharer", "content_type", "object_id", "channel"],
                condition=Q(sharer__isnull=False, anon_id=""),
                name="one_share_link_per_sharer_item_channel",
            ),
            models.UniqueConstraint(
                fields=["anon_id", "content_type", "object_id", "channel"],
                condition=Q(sharer__isnull=True) & ~Q(anon_id=""),
                name="one_share_link_per_visitor_item_channel",
            ),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="share_target")]

    def __str__(self):
        return f"{self.code} ({self.channel})"

    def get_absolute_url(self):
        return reverse("engagement:referral", kwargs={"code": self.code})


class ShareVisit(models.Model):
    """One arrival through a share link (the visitor's anonymous id, not who they are)."""

    link = models.ForeignKey(ShareLink, related_name="visits", on_delete=models.CASCADE)
    visitor = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"visit via {self.link_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ReferralAttribution(models.Model):
    """An order placed in a session that arrived through a share link."""

    order = models.OneToOneField("shop.Order", related_name="referral", on_delete=models.CASCADE)
    link = models.ForeignKey(ShareLink, related_name="attributions", on_delete=models.PROTECT)
    sharer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="referred_orders",
        on_delete=models.SET_NULL,
    )
    channel = models.CharField(max_length=12, choices=ShareChannel.choices)
    visited_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.order_id} via {self.link_id} ({self.channel})"


class StoreSocialAccount(models.Model):
    """One of the store's own accounts, listed in the "Follow us" block."""

    class Network(models.TextChoices):
        INSTAGRAM = "instagram", "Instagram"
        FACEBOOK = "facebook", "Facebook"
        X = "x", "X"
        TIKTOK = "tiktok", "TikTok"
        YOUTUBE = "youtube", "YouTube"
        PINTEREST = "pinterest", "Pinterest"
        LINKEDIN = "linkedin", "LinkedIn"
        OTHER = "other", "Other"

    network = models.CharField(max_length=12, choices=Network.choices)
    label = models.CharField(max_length=60, help_text="Shown on the link, e.g. @agora.store")
    url = models.URLField()
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.get_network_display()}: {self.label}"
