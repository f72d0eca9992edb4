"""Write-side operations of the forums. Views, API, admin and tasks call these."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from personalization import events
from shop.models import Product
from social.community import is_new_account, rate_limit_check
from social.text import has_visible_text

from . import rendering
from .exceptions import Banned, InvalidPost, NotAllowed, NotFound, RateLimited, TopicLocked
from .models import (
    ForumBan,
    ForumCategory,
    ModerationLog,
    Notification,
    Post,
    PostReport,
    Subscription,
    Topic,
    TopicRead,
)

TITLE_MIN, TITLE_MAX = 5, 140
BODY_MIN, BODY_MAX = 2, 10000


def _setting(name, default):
    return getattr(settings, name, default)


def clean_title(value) -> str:
    title = " ".join(str(value or "").replace("\x00", "").split())
    if not has_visible_text(title):  # social.text: U+200B, U+2800 ... are not a title
        raise InvalidPost("Please give your topic a title.")
    if len(title) < TITLE_MIN:
        raise InvalidPost(f"The title is too short: at least {TITLE_MIN} characters.")
    if len(title) > TITLE_MAX:
        raise InvalidPost(f"The title is too long: at most {TITLE_MAX} characters.")
    return title


def clean_body(value) -> str:
    body = str(value or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not has_visible_text(body):
        raise InvalidPost("Please write something: the post is empty.")
    if len(body) < BODY_MIN:
        raise InvalidPost(f"The post is too short: at least {BODY_MIN} characters.")
    if len(body) > BODY_MAX:
        raise InvalidPost(f"The post is too long: at most {BODY_MAX} characters.")
    return body


def is_moderator(user) -> bool:
    return user.is_authenticated and (user.is_staff or user.has_perm("forums.change_topic"))


def check_not_banned(user) -> None:
    """Banned shoppers cannot write in the forums at all: no topic, reply, edit or delete."""
    ban = ForumBan.objects.filter(user=user).first()
    if ban is not None and ban.active:
        until = f" until {ban.until:%d %b %Y}" if ban.until else ""
        raise Banned(f"You cannot post in the forums{until}: {ban.reason}")


def _check_can_post(user) -> None:
    """Everyone is rate-limited, new accounts harder (callers check bans first)."""
    rate_limit_check(
        user=user,
        limits=_setting("AGORA_FORUMS_RATE_LIMITS", {"new": (3, 600), "member": (6, 60)}),
        writes_since=lambda since: Post.objects.filter(author=user, created_at__gte=since).count(),
        error=RateLimited,
        noun="posts",
    )


def _render(body: str, *, author) -> tuple[str, list[int], list[str]]:
    slugs = rendering.product_slugs(body)
    found = {
        slug: (pk, name)
        for slug, pk, name in Product.objects.visible()
        .filter(slug__in=slugs)
        .values_list("slug", "pk", "name")
    }
    rendered = rendering.render_post(
        body, nofollow=is_new_account(author), names={s: v[1] for s, v in found.items()}
    )
    product_ids = [found[s][0] for s in slugs if s in found]
    return rendered.html, product_ids[: rendering.MAX_PRODUCTS], rendered.mentions


def _schedule_analysis(post: Post) -> None:
    from .tasks import analyse_post

    transaction.on_commit(lambda: analyse_post.delay(post.pk))


def usernames_q(names: list[str]) -> Q:
    """Users whose username is one of ``names``, without regard to case (as @mentions are)."""
    query = Q(pk__in=[])
    for name in names:
        query |= Q(username__iexact=name)
    return query


def _notify(*, post: Post, mentions: list[str], new_topic: bool) -> list[int]:
    """In-site notifications (one per shopper per post), emailed after commit."""
    author_id = post.author_id
    recipients: dict[int, str] = {}
    if mentions:
        User = get_user_model()
        # Handles are matched without regard to case: "@Shopper33" notifies shopper33.
        for pk in User.objects.filter(usernames_q(mentions), is_active=True).values_list(
            "pk", flat=True
        ):
            recipients[pk] = Notification.Kind.MENTION
    for pk in Subscription.objects.filter(topic_id=post.topic_id).values_list("user_id", flat=True):
        recipients.setdefault(pk, Notification.Kind.REPLY)
    if new_topic:
        category_id = post.topic.category_id
        for pk in Subscription.objects.filter(category_id=category_id).values_list(
            "user_id", flat=True
        ):
            recipients.setdefault(pk, Notification.Kind.TOPIC)
    recipients.pop(author_id, None)
    if not recipients:
        return []
    Notification.objects.bulk_create(
        [
            Notification(user_id=pk, kind=kind, post=post, actor_id=author_id)
            for pk, kind in recipients.items()
        ],
        ignore_conflicts=True,
    )
    ids = list(
        Notification.objects.filter(post=post, user_id__in=list(recipients)).values_list(
            "pk", flat=True
        )
    )
    from . import notifications
    from .tasks import send_notification_emails

    notifications.unread_count_changed(list(recipients))
    transaction.on_commit(lambda: send_notification_emails.delay(ids))
    return ids


def _add_post(*, topic: Topic, user, body: str, new_topic: bool) -> Post:
    html, product_ids, mentions = _render(body, author=user)
    now = timezone.now()
    number = topic.post_count + 1
    post = Post.objects.create(
        topic=topic,
        author=user,
        number=number,
        body=body,
        body_html=html,
        mentioned_products=product_ids,
        created_at=now,
    )
    Topic.objects.filter(pk=topic.pk).update(
        post_count=F("post_count") + 1, last_post_at=now, last_poster=user
    )
    ForumCategory.objects.filter(pk=topic.category_id).update(
        post_count=F("post_count") + 1, topic_count=F("topic_count") + (1 if new_topic else 0)
    )
    Subscription.objects.bulk_create([Subscription(user=user, topic=topic)], ignore_conflicts=True)
    TopicRead.objects.bulk_create(
        [TopicRead(user=user, topic=topic, last_read_at=now)],
        update_conflicts=True,
        unique_fields=["user", "topic"],
        update_fields=["last_read_at"],
    )
    _notify(post=post, mentions=mentions, new_topic=new_topic)
    events.record(
        events.Event.Kind.FORUM_POST,
        user=user,
        products=product_ids,
        topic_id=topic.pk,
        post_id=post.pk,
        category=topic.category.slug,
        new_topic=new_topic,
    )
    _schedule_analysis(post)
    return post


@transaction.atomic
def topic_create(*, user, category: ForumCategory, title, body) -> Topic:
    check_not_banned(user)
    title = clean_title(title)
    body = clean_body(body)
    _check_can_post(user)
    topic = Topic.objects.create(category=category, title=title, author=user, post_count=0)
    topic = Topic.objects.select_for_update().select_related("category").get(pk=topic.pk)
    _add_post(topic=topic, user=user, body=body, new_topic=True)
    topic.refresh_from_db()
    return topic


class PostAction:
    """The writes on a post that the one permission rule (``post_write_check``) decides."""

    REPLY = "reply"
    QUOTE = "quote"
    EDIT = "edit"
    DELETE = "delete"
    REPORT = "report"


# Writes a locked topic refuses to shoppers (moderators may still write there). A report is
# not a change of the conversation: it is how a shopper flags abuse, also in a locked topic.
LOCKED_REFUSES = {PostAction.REPLY, PostAction.QUOTE, PostAction.EDIT, PostAction.DELETE}
OWN_ONLY = {PostAction.EDIT, PostAction.DELETE}
LOCKED_WORDS = {
    PostAction.REPLY: "no new replies",
    PostAction.QUOTE: "no new replies",
    PostAction.EDIT: "posts cannot be edited",
    PostAction.DELETE: "posts cannot be deleted",
}


_UNKNOWN = object()


def post_write_refusal(*, user, action: str, topic: Topic, post: Post | None = None, ban=_UNKNOWN):
    """The one permission rule for every write on a forum post (issue 17, item 13).

    Returns None when ``user`` may do ``action`` (a ``PostAction``) on ``post`` in ``topic``
    (``post`` is None for a reply), else the ``ForumError`` to raise, with the shopper-facing
    reason. The web pages, the API and the admin all decide through it (services raise it,
    templates show a button only when it returns None). Order of the checks: signed in, not
    banned, the topic and post exist for this user, own post, hidden post, edit window, locked
    topic. Rate limits are checked separately, only when something is about to be written.
    ``ban`` (the shopper's ForumBan or None) saves its query when a page asks for many posts.
    """
    if not user.is_authenticated:
        return NotAllowed("Sign in to write in the forums.")
    moderator = is_moderator(user)
    if ban is _UNKNOWN:
        ban = ForumBan.objects.filter(user=user).first()
    if ban is not None and ban.active:
        until = f" until {ban.until:%d %b %Y}" if ban.until else ""
        return Banned(f"You cannot post in the forums{until}: {ban.reason}")
    if topic.is_hidden and not moderator:
        return NotFound("This topic does not exist.")
    if post is not None:
        if post.is_deleted or post.topic_id != topic.pk:
            return NotFound("This post does not exist.")
        if action in OWN_ONLY and post.author_id != user.pk:
            verb = "edit" if action == PostAction.EDIT else "delete"
            return NotAllowed(f"You can only {verb} your own posts.")
        if post.is_hidden and action in {PostAction.EDIT, PostAction.QUOTE, PostAction.REPORT}:
            if action == PostAction.EDIT:
                return NotAllowed("A moderator has hidden this post: it cannot be edited.")
            if not moderator:
                return NotFound("This post does not exist.")
        if action == PostAction.EDIT and timezone.now() - post.created_at > edit_window():
            minutes = int(edit_window().total_seconds() // 60)
            return NotAllowed(f"Posts can only be edited in the first {minutes} minutes.")
    if topic.is_locked and action in LOCKED_REFUSES and not moderator:
        return TopicLocked(f"This topic is locked: {LOCKED_WORDS[action]}.")
    return None


def post_write_check(*, user, action: str, topic: Topic, post: Post | None = None) -> None:
    """Raise the ``ForumError`` of ``post_write_refusal`` when the write is not allowed."""
    refusal = post_write_refusal(user=user, action=action, topic=topic, post=post)
    if refusal is not None:
        raise refusal


def topic_for_posting(*, user, topic_id) -> Topic:
    """The topic, locked for update, when ``user`` may reply in it (else the rule's error)."""
    topic = Topic.objects.select_for_update().select_related("category").filter(pk=topic_id).first()
    if topic is None:
        raise NotFound("This topic does not exist.")
    post_write_check(user=user, action=PostAction.REPLY, topic=topic)
    return topic


@transaction.atomic
def post_create(*, user, topic_id, body) -> Post:
    topic = topic_for_posting(user=user, topic_id=topic_id)
    body = clean_body(body)
    _check_can_post(user)
    return _add_post(topic=topic, user=user, body=body, new_topic=False)


def post_for_write(*, user, post_id, action: str) -> Post:
    """The post, locked for update, when ``user`` may do ``action`` on it (else the rule's
    error: see ``post_write_refusal``)."""
    post = Post.objects.select_for_update().select_related("topic").filter(pk=post_id).first()
    if post is None:
        raise NotFound("This post does not exist.")
    post_write_check(user=user, action=action, topic=post.topic, post=post)
    return post


def edit_window() -> timedelta:
    return timedelta(minutes=_setting("AGORA_FORUMS_EDIT_WINDOW_MINUTES", 30))


def can_write(post: Post, user, action: str, *, topic: Topic | None = None, ban=_UNKNOWN) -> bool:
    """Whether the page should offer ``action`` on ``post`` (the same rule the write obeys)."""
    topic = topic or post.topic
    return post_write_refusal(user=user, action=action, topic=topic, post=post, ban=ban) is None


@transaction.atomic
def post_edit(*, user, post_id, body) -> Post:
    post = post_for_write(user=user, post_id=post_id, action=PostAction.EDIT)
    body = clean_body(body)
    if body == post.body:
        return post
    previous = rendering.mentions(post.body)
    post.body = body
    post.body_html, post.mentioned_products, mentions = _render(body, author=user)
    post.edited_at = timezone.now()
    post.text_version = F("text_version") + 1
    post.save()
    post.refresh_from_db(fields=["text_version"])
    _notify_new_mentions(post=post, mentions=mentions, previous=previous)
    _schedule_analysis(post)
    return post


def _notify_new_mentions(*, post: Post, mentions: list[str], previous: list[str]) -> list[int]:
    """After an edit, notify the shoppers the edit newly mentions (in the site, and by email
    after commit), as a new post would. Shoppers the post already mentioned, or already
    notified of a mention in it, are not notified again. A shopper who had a reply or topic
    notification for this post gets it turned into a fresh, unread mention (one notification
    per shopper per post)."""
    before = {name.lower() for name in previous}
    added = [name for name in mentions if name.lower() not in before]
    if not added:
        return []
    User = get_user_model()
    users = set(
        User.objects.filter(usernames_q(added), is_active=True)
        .exclude(pk=post.author_id)
        .values_list("pk", flat=True)
    )
    existing = dict(
        Notification.objects.filter(post=post, user_id__in=users).values_list("user_id", "kind")
    )
    users -= {pk for pk, kind in existing.items() if kind == Notification.Kind.MENTION}
    if not users:
        return []
    now = timezone.now()
    Notification.objects.filter(post=post, user_id__in=users).update(
        kind=Notification.Kind.MENTION, created_at=now, read_at=None, emailed_at=None
    )
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=pk,
                kind=Notification.Kind.MENTION,
                post=post,
                actor_id=post.author_id,
                created_at=now,
            )
            for pk in users - set(existing)
        ],
        ignore_conflicts=True,
    )
    ids = list(
        Notification.objects.filter(
            post=post, user_id__in=users, kind=Notification.Kind.MENTION
        ).values_list("pk", flat=True)
    )
    from . import notifications
    from .tasks import send_notification_emails

    notifications.unread_count_changed(list(users))
    transaction.on_commit(lambda: send_notification_emails.delay(ids))
    return ids


@transaction.atomic
def post_delete(*, user, post_id) -> Post:
    post = post_for_write(user=user, post_id=post_id, action=PostAction.DELETE)
    topic = post.topic
    post.is_deleted = True
    post.body = ""
    post.body_html = ""
    post.mentioned_products = []
    post.save(update_fields=["is_deleted", "body", "body_html", "mentioned_products"])
    post.topic = topic
    return post


@transaction.atomic
def post_report(*, user, post_id, reason) -> PostReport:
    post = post_for_write(user=user, post_id=post_id, action=PostAction.REPORT)
    reason = " ".join(str(reason or "").split())[:300]
    if not has_visible_text(reason):
        raise InvalidPost("Please say what is wrong with this post.")
    report, created = PostReport.objects.get_or_create(
        post=post, reporter=user, defaults={"reason": reason}
    )
    if not created:
        raise InvalidPost("You already reported this post; a moderator will look at it.")
    return report


@transaction.atomic
def subscription_set(
    *, user, topic: Topic | None = None, category=None, on: bool, email: bool | None = None
) -> bool:
    """Follow or unfollow a topic or category. ``email`` (when given) says whether its
    notifications are also emailed; mentions are always emailed."""
    if (topic is None) == (category is None):
        raise InvalidPost("Follow either a topic or a category.")
    lookup = {"user": user, "topic": topic} if topic else {"user": user, "category": category}
    if on:
        subscription, _ = Subscription.objects.get_or_create(**lookup)
        if email is not None and subscription.email != email:
            subscription.email = email
            subscription.save(update_fields=["email"])
    else:
        Subscription.objects.filter(**lookup).delete()
    return on


def topic_mark_read_upto(*, user, topic: Topic, number: int) -> bool:
    """Move ``user``'s read position in ``topic`` to post ``number`` (its creation time), never
    backwards; a number past the last post means the last post. Returns whether it moved.
    One conditional upsert: concurrent calls keep the newest position."""
    until = (
        Post.objects.filter(topic=topic, number__lte=max(number, 1))
        .order_by("-number")
        .values_list("created_at", flat=True)
        .first()
    )
    if until is None:
        return False
    previous = (
        TopicRead.objects.filter(user=user, topic=topic)
        .values_list("last_read_at", flat=True)
        .first()
    )
    if previous is not None and previous >= until:
        return False
    topic_mark_read(user=user, topic=topic, until=until, previous=previous)
    return True


def topic_mark_read(*, user, topic: Topic, until, previous=None) -> None:
    """Remember the newest post seen; never move the marker backwards."""
    if previous is not None and previous >= until:
        return
    TopicRead.objects.bulk_create(
        [TopicRead(user=user, topic=topic, last_read_at=until)],
        update_conflicts=True,
        unique_fields=["user", "topic"],
        update_fields=["last_read_at"],
    )


# --- moderation -------------------------------------------------------------------------------


def _require_moderator(actor) -> None:
    if not is_moderator(actor):
        raise NotAllowed("Only moderators can do this.")


TOPIC_ACTIONS = {
    "lock": ("is_locked", True),
    "unlock": ("is_locked", False),
    "pin": ("is_pinned", True),
    "unpin": ("is_pinned", False),
    "hide": ("is_hidden", True),
    "unhide": ("is_hidden", False),
}


@transaction.atomic
def topic_moderate(*, actor, topic_id, action: str, note: str = "") -> Topic:
    _require_moderator(actor)
    if action not in TOPIC_ACTIONS:
        raise InvalidPost("Unknown moderation action.")
    topic = Topic.objects.select_for_update().filter(pk=topic_id).first()
    if topic is None:
        raise NotFound("This topic does not exist.")
    field, value = TOPIC_ACTIONS[action]
    setattr(topic, field, value)
    topic.save(update_fields=[field])
    ModerationLog.objects.create(actor=actor, action=action, topic=topic, note=note[:300])
    return topic


@transaction.atomic
def topic_move(*, actor, topic_id, category: ForumCategory) -> Topic:
    _require_moderator(actor)
    topic = Topic.objects.select_for_update().filter(pk=topic_id).first()
    if topic is None:
        raise NotFound("This topic does not exist.")
    old = topic.category_id
    if old == category.pk:
        return topic
    topic.category = category
    topic.save(update_fields=["category"])
    ForumCategory.objects.filter(pk=old).update(
        topic_count=F("topic_count") - 1, post_count=F("post_count") - topic.post_count
    )
    ForumCategory.objects.filter(pk=category.pk).update(
        topic_count=F("topic_count") + 1, post_count=F("post_count") + topic.post_count
    )
    ModerationLog.objects.create(
        actor=actor, action="move", topic=topic, note=f"from category {old} to {category}"
    )
    return topic


@transaction.atomic
def post_hide(*, actor, post_id, hidden: bool = True, note: str = "") -> Post:
    _require_moderator(actor)
    post = Post.objects.select_for_update().filter(pk=post_id).first()
    if post is None:
        raise NotFound("This post does not exist.")
    post.is_hidden = hidden
    post.save(update_fields=["is_hidden"])
    post.reports.update(resolved=True)
    ModerationLog.objects.create(
        actor=actor,
        action="hide_post" if hidden else "unhide_post",
        post=post,
        topic_id=post.topic_id,
        note=note[:300],
    )
    return post


@transaction.atomic
def user_ban(*, actor, user, reason: str, days: int | None = None) -> ForumBan:
    _require_moderator(actor)
    reason = " ".join(str(reason or "").split())[:200]
    if not reason:
        raise InvalidPost("Give a reason for the ban.")
    if user.is_staff:
        raise NotAllowed("Staff cannot be banned from the forums.")
    until = timezone.now() + timedelta(days=days) if days else None
    ban, _ = ForumBan.objects.update_or_create(
        user=user, defaults={"reason": reason, "until": until, "banned_by": actor}
    )
    ModerationLog.objects.create(actor=actor, action="ban", target_user=user, note=reason)
    return ban


@transaction.atomic
def user_unban(*, actor, user) -> None:
    _require_moderator(actor)
    ForumBan.objects.filter(user=user).delete()
    ModerationLog.objects.create(actor=actor, action="unban", target_user=user)


@transaction.atomic
def report_resolve(*, actor, report_id) -> None:
    _require_moderator(actor)
    PostReport.objects.filter(pk=report_id).update(resolved=True)
    ModerationLog.objects.create(actor=actor, action="dismiss_report", note=f"report {report_id}")


def notifications_mark_read(*, user, ids=None) -> int:
    from . import notifications

    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    count = qs.update(read_at=timezone.now())
    notifications.unread_count_changed([user.pk])
    return count
