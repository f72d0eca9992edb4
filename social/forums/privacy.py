"""Personal data held by the forums: topics and posts, read markers, subscriptions,
notifications, reports, bans and the moderation log.

Posts are removed (emptied and marked deleted, so the thread keeps its numbering, as when an
author deletes a post) or kept under "Former member", as the shopper chooses.
"""

from privacy import registry
from privacy.registry import Custom, Delete, Detach, Keep


def _erase_topics(queryset, *, field, user, options) -> int:
    """Topics the shopper started: kept when they chose to keep their posts; otherwise deleted
    when nobody else wrote in them, else kept with a neutral title for the others' replies."""
    if options.keep_content:
        return queryset.count()
    from .models import Post

    others = Post.objects.filter(topic__in=queryset).exclude(author=user).values("topic_id")
    kept = queryset.filter(pk__in=others).update(title="Topic by a former member")
    deleted, _ = queryset.exclude(pk__in=others).delete()
    return kept + deleted


registry.register(
    "forums.Topic",
    kind="forum_topics",
    description="Forum topics you started.",
    owner="author",
    fields={
        "title": "The title.",
        "category__name": "The forum.",
        "created_at": "When (UTC, ISO 8601).",
    },
    erase=Custom(fn=_erase_topics, label="removed, or kept as a former member"),
    references={"last_poster": Detach()},
    order=60,
)


def _erase_posts(queryset, *, field, user, options) -> int:
    if options.keep_content:
        return queryset.count()
    return queryset.update(
        is_deleted=True, body="", body_html="", mentioned_products=[], intents=[]
    )


registry.register(
    "forums.Post",
    kind="forum_posts",
    description="Everything you wrote in the forums. On erasure you choose: removed, or kept "
    "under 'Former member'.",
    owner="author",
    fields={
        "topic__title": "The topic.",
        "number": "Its position in the topic.",
        "body": "Your text (Markdown).",
        "created_at": "When (UTC, ISO 8601).",
        "edited_at": "When you last edited it.",
        "is_deleted": "Whether you deleted it.",
    },
    erase=Custom(fn=_erase_posts, label="removed, or kept as a former member"),
    order=50,
)

registry.register(
    "forums.TopicRead",
    kind="forum_read_markers",
    description="How far you have read each topic, to show what is new.",
    fields={"topic__title": "The topic.", "last_read_at": "Read up to (UTC, ISO 8601)."},
    erase=Delete(),
)

registry.register(
    "forums.Subscription",
    kind="forum_subscriptions",
    description="Topics and forums you follow, and whether we email you about them.",
    fields={
        "topic__title": "The topic (or empty for a whole forum).",
        "category__name": "The forum (or empty for a topic).",
        "email": "Whether we also email you.",
        "created_at": "Since when (UTC, ISO 8601).",
    },
    erase=Delete(),
)

registry.register(
    "forums.Notification",
    kind="forum_notifications",
    description="Replies and mentions we notified you about.",
    fields={
        "kind": "reply, topic or mention.",
        "post__topic__title": "Where.",
        "created_at": "When (UTC, ISO 8601).",
        "read_at": "When you read it.",
        "emailed_at": "When we emailed it.",
    },
    erase=Delete(),
    references={"actor": Detach()},
    order=40,
)

registry.register(
    "forums.PostReport",
    kind="forum_reports",
    description="Posts you reported to our moderators, and why.",
    owner="reporter",
    fields={"post_id": "The post.", "reason": "Your reason.", "created_at": "When."},
    erase=Delete(),
    order=40,
)

registry.register(
    "forums.ForumBan",
    kind="forum_ban",
    description="A ban from posting in the forums, if our moderators ever issued one.",
    fields={"reason": "Why.", "until": "Until when (empty: until lifted).", "created_at": "When."},
    erase=Delete(),
    references={"banned_by": Detach()},
)

registry.register(
    "forums.ModerationLog",
    kind="forum_moderation",
    description="What our moderators did about your account or posts.",
    owner="target_user",
    fields={"action": "What was done.", "note": "The moderator's note.", "created_at": "When."},
    erase=Detach(clear={"note": ""}),
    references={"actor": Keep("the moderator's own record of their acts")},
)


def _forget_unread_counts(*, user_ids) -> None:
    from .notifications import unread_count_changed

    unread_count_changed(user_ids)


registry.register_cache("forums: unread notification counts", _forget_unread_counts)
