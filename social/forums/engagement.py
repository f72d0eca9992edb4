"""How the forums take part in engagement: likes on visible posts, share bars on topics and a
profile section with the shopper's posts.

Called once from ``ForumsConfig.ready()``; see docs/engagement.md for the registry.
"""

from django.db.models import QuerySet


def _posts() -> QuerySet:
    from .models import Post

    return Post.objects.select_related("topic__category")


def _post_is_visible(post) -> bool:
    """Hidden or deleted posts, and posts in hidden topics, cannot be liked (404)."""
    return not (post.is_hidden or post.is_deleted or post.topic.is_hidden)


def _post_title(post) -> str:
    return f"Post #{post.number} in “{post.topic.title}”"


def _post_event_attributes(post) -> dict:
    return {
        "topic_id": post.topic_id,
        "category": post.topic.category.slug,
        "products": list(post.mentioned_products or []),
    }


def _topics() -> QuerySet:
    from .models import Topic

    return Topic.objects.select_related("category")


def _topic_is_visible(topic) -> bool:
    return not topic.is_hidden


def _topic_event_attributes(topic) -> dict:
    return {"topic_id": topic.pk, "category": topic.category.slug}


def public_posts(*, user, viewer) -> list:
    """The shopper's visible posts for their public profile: newest ten, in one query.
    The profile's privacy is enforced for every section by ``profile_sections.filled``."""
    from .models import Post

    return list(
        Post.objects.filter(author=user, is_hidden=False, is_deleted=False, topic__is_hidden=False)
        .select_related("topic")
        .order_by("-created_at", "-pk")[:10]
    )


def register() -> None:
    from social.engagement import likeable, profile_sections

    from .models import Post, Topic

    likeable.register(
        Post,
        key="post",
        queryset=_posts,
        is_visible=_post_is_visible,
        title=_post_title,
        event_attributes=_post_event_attributes,
        shareable=False,
    )
    # Topics are shared (the share bar on the topic page), not liked: likes go on posts.
    likeable.register(
        Topic,
        key="topic",
        queryset=_topics,
        is_visible=_topic_is_visible,
        title=lambda topic: topic.title,
        event_attributes=_topic_event_attributes,
        can_like=False,
    )
    profile_sections.register(
        key="forum_posts",
        title="Forum posts",
        template="forums/_profile_posts.html",
        items=public_posts,
    )
