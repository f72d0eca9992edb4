"""Forum categories, topics and posts, with read markers, subscriptions, notifications,
reports, bans and a moderation log.

A post stores its Markdown source and the sanitized HTML rendered from it at write time, so a
page view never renders Markdown. ``Topic.post_count`` / ``last_post_at`` are kept by services.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from social.community import Report
from social.textsignals.models import AnalysedText


class ForumCategory(models.Model):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    topic_count = models.PositiveIntegerField(default=0)
    post_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "forum categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("forums:category", kwargs={"slug": self.slug})


class TopicQuerySet(models.QuerySet):
    def visible(self):
        return self.filter(is_hidden=False)


class Topic(models.Model):
    category = models.ForeignKey(ForumCategory, related_name="topics", on_delete=models.PROTECT)
    title = models.CharField(max_length=140)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="forum_topics", on_delete=models.CASCADE
    )
    is_locked = models.BooleanField(default=False)
    is_pinned = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False)
    post_count = models.PositiveIntegerField(default=0)
    last_post_at = models.DateTimeField(default=timezone.now)
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["-is_pinned", "-last_post_at", "-pk"]
        indexes = [
            models.Index(
                fields=["category", "-is_pinned", "-last_post_at"], name="topic_category_recent"
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("forums:topic", kwargs={"pk": self.pk})


class Post(AnalysedText):
    topic = models.ForeignKey(Topic, related_name="posts", on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="forum_posts", on_delete=models.CASCADE
    )
    number = models.PositiveIntegerField(help_text="Position in the topic, from 1.")
    body = models.TextField(max_length=10000)
    body_html = models.TextField(editable=False)
    mentioned_products = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    is_hidden = models.BooleanField(default=False, help_text="Hidden by a moderator.")
    is_deleted = models.BooleanField(default=False, help_text="Deleted by its author.")

    class Meta:
        ordering = ["topic", "number"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "number"], name="one_post_number_per_topic")
        ]
        indexes = [
            models.Index(fields=["author", "-created_at"], name="post_author_recent"),
            # The loyalty replacement-intent trigger (personalization/loyalty/triggers.py).
            models.Index(
                fields=["created_at"],
                name="post_replacement_recent",
                condition=Q(intents__contains=[{"intent": "replacement"}]),
            ),
        ]

    def __str__(self):
        return f"#{self.number} in {self.topic_id}"

    def get_absolute_url(self):
        per_page = getattr(settings, "AGORA_FORUMS_POSTS_PER_PAGE", 20)
        page = (self.number - 1) // per_page + 1
        return f"{reverse('forums:topic', kwargs={'pk': self.topic_id})}?page={page}#post-{self.pk}"

    def signal_text(self) -> str:
        return self.body


class TopicRead(models.Model):
    """The newest post time a shopper has seen in a topic: newer posts are unread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    topic = models.ForeignKey(Topic, related_name="reads", on_delete=models.CASCADE)
    last_read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="one_read_marker_per_topic")
        ]

    def __str__(self):
        return f"{self.user_id} read {self.topic_id} until {self.last_read_at}"


class Subscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="forum_subscriptions", on_delete=models.CASCADE
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, related_name="subscriptions", on_delete=models.CASCADE
    )
    category = models.ForeignKey(
        ForumCategory,
        null=True,
        blank=True,
        related_name="subscriptions",
        on_delete=models.CASCADE,
    )
    email = models.BooleanField(default=True, help_text="Also send an email.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(topic__isnull=True, category__isnull=False)
                | Q(topic__isnull=False, category__isnull=True),
                name="subscription_topic_or_category",
            ),
            models.UniqueConstraint(
                fields=["user", "topic"],
                condition=Q(topic__isnull=False),
                name="one_subscription_per_topic",
            ),
            models.UniqueConstraint(
                fields=["user", "category"],
                condition=Q(category__isnull=False),
                name="one_subscription_per_category",
            ),
        ]

    def __str__(self):
        return f"{self.user_id} follows {self.topic_id or self.category_id}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", "New reply in a topic you follow"
        TOPIC = "topic", "New topic in a category you follow"
        MENTION = "mention", "Mentioned you"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="forum_notifications", on_delete=models.CASCADE
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    post = models.ForeignKey(Post, related_name="+", on_delete=models.CASCADE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="one_notification_per_post")
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self):
        return f"{self.kind} for {self.user_id}"


class PostReport(Report):
    post = models.ForeignKey(Post, related_name="reports", on_delete=models.CASCADE)

    class Meta(Report.Meta):
        constraints = [
            models.UniqueConstraint(fields=["post", "reporter"], name="one_report_per_post")
        ]

    def __str__(self):
        return f"Report on post {self.post_id}"


class ForumBan(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="forum_ban", on_delete=models.CASCADE
    )
    reason = models.CharField(max_length=200)
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: until lifted.")
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Ban of {self.user_id}"

    @property
    def active(self) -> bool:
        return self.until is None or self.until > timezone.now()


class ModerationLog(models.Model):
    """Every moderation act leaves a row: who did what to which topic, post or shopper."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    action = models.CharField(max_length=30)
    topic = models.ForeignKey(
        Topic, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    post = models.ForeignKey(
        Post, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.action} by {self.actor_id}"
