"""Read-side queries of the forums: each page runs a fixed number of queries."""

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from shop.models import Product
from shop.selectors import search_terms

from .models import (
    ForumBan,
    ForumCategory,
    Notification,
    Post,
    PostReport,
    Subscription,
    Topic,
    TopicRead,
)
from .services import is_moderator


def posts_per_page() -> int:
    return getattr(settings, "AGORA_FORUMS_POSTS_PER_PAGE", 20)


def topics_per_page() -> int:
    return getattr(settings, "AGORA_FORUMS_TOPICS_PER_PAGE", 25)


def categories() -> QuerySet:
    return ForumCategory.objects.order_by("position", "name")


def with_read_marker(topics: QuerySet, user) -> QuerySet:
    if not user.is_authenticated:
        return topics
    read = TopicRead.objects.filter(user=user, topic=OuterRef("pk")).values("last_read_at")[:1]
    return topics.annotate(last_read_at=Subquery(read))


def topics_for_category(category, *, user) -> QuerySet:
    topics = Topic.objects.filter(category=category)
    if not is_moderator(user):
        topics = topics.visible()
    topics = topics.select_related(
        "author__public_profile", "last_poster__public_profile"
    ).order_by("-is_pinned", "-last_post_at", "-pk")
    return with_read_marker(topics, user)


def recent_topics(*, user, limit: int = 8) -> list[Topic]:
    topics = Topic.objects.visible().select_related(
        "author__public_profile", "last_poster__public_profile", "category"
    )
    return list(with_read_marker(topics.order_by("-last_post_at", "-pk"), user)[:limit])


def topic_for_page(*, pk, user) -> Topic | None:
    topic = Topic.objects.select_related("category", "author").filter(pk=pk).first()
    if topic is None or (topic.is_hidden and not is_moderator(user)):
        return None
    return topic


def posts_for_topic(topic) -> QuerySet:
    return (
        Post.objects.filter(topic=topic).select_related("author__public_profile").order_by("number")
    )


def profile_urls_for_posts(posts) -> dict[str, str]:
    """``{lower-case username: public profile URL}`` for every shopper @mentioned in
    ``posts`` whose profile is public (one query for the page, none without mentions)."""
    from social.engagement.selectors import public_profile_urls

    from .rendering import mentions

    names = {name for post in posts if not post.is_deleted for name in mentions(post.body)}
    return public_profile_urls(names)


def read_marker(*, user, topic):
    if not user.is_authenticated:
        return None
    return (
        TopicRead.objects.filter(user=user, topic=topic)
        .values_list("last_read_at", flat=True)
        .first()
    )


def products_for_posts(posts) -> dict[int, Product]:
    """Product cards for every product mentioned on the page, in a constant number of queries."""
    ids = {pk for post in posts for pk in (post.mentioned_products or [])}
    if not ids:
        return {}
    return {p.pk: p for p in Product.objects.visible().for_cards().filter(pk__in=ids)}


def subscription_for(*, user, topic=None, category=None) -> Subscription | None:
    """The shopper's subscription to the topic or category (its ``email`` says whether
    notifications from it are also emailed), or None."""
    if not user.is_authenticated:
        return None
    if topic is not None:
        return Subscription.objects.filter(user=user, topic=topic).first()
    return Subscription.objects.filter(user=user, category=category).first()


def is_subscribed(*, user, topic=None, category=None) -> bool:
    return subscription_for(user=user, topic=topic, category=category) is not None


def active_ban(user) -> ForumBan | None:
    if not user.is_authenticated:
        return None
    ban = ForumBan.objects.filter(user=user).first()
    return ban if ban and ban.active else None


def search_posts(text: str, *, user) -> QuerySet:
    """Visible posts matching ``text`` in their body or their topic's title, best first."""
    posts = Post.objects.filter(is_hidden=False, is_deleted=False, topic__is_hidden=False)
    terms = search_terms(text)
    if not terms:
        return posts.none()
    if connection.vendor == "postgresql":
        query = SearchQuery(
            " & ".join(f"{t}:*" for t in terms), search_type="raw", config="english"
        )
        vector = SearchVector("topic__title", weight="A", config="english") + SearchVector(
            "body", weight="B", config="english"
        )
        posts = (
            posts.annotate(search=vector)
            .filter(search=query)
            .annotate(rank=SearchRank(F("search"), query))
            .order_by("-rank", "-created_at")
        )
    else:
        for term in terms:
            posts = posts.filter(Q(body__icontains=term) | Q(topic__title__icontains=term))
        posts = posts.order_by("-created_at")
    return posts.select_related("author__public_profile", "topic__category")


def notifications_for(user) -> QuerySet:
    return (
        Notification.objects.filter(user=user)
        .select_related("actor", "post__topic")
        .order_by("-created_at", "-pk")
    )


def open_reports() -> QuerySet:
    return (
        PostReport.objects.filter(resolved=False)
        .select_related("post__topic", "post__author", "reporter")
        .order_by("created_at")
    )
