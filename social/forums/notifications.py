"""In-site notification counts (cached, so the nav costs no query) and notification emails."""

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from config.aftercommit import cache_fill, forget_keys

from .models import Notification, Subscription


def _key(user_id: int) -> str:
    return f"forums:unread:{user_id}"


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    count = cache.get(_key(user.pk))
    if count is None:
        count = Notification.objects.filter(user=user, read_at__isnull=True).count()
        cache_fill(_key(user.pk), count, 600)
    return count


def unread_count_changed(user_ids) -> None:
    from shop.signed import shoppers_changed  # the count shows in the header of store pages

    user_ids = list(user_ids)
    keys = [_key(pk) for pk in user_ids]
    forget_keys(keys)  # now and after commit, with a lease (config.aftercommit)
    shoppers_changed(user_ids)


def _email_off(notes) -> tuple[set, set]:
    """(user id, topic id) and (user id, category id) pairs of the subscriptions behind
    ``notes`` whose shopper asked for no email."""
    off = Subscription.objects.filter(user_id__in={n.user_id for n in notes}, email=False)
    topics = {n.post.topic_id for n in notes if n.kind == Notification.Kind.REPLY}
    categories = {n.post.topic.category_id for n in notes if n.kind == Notification.Kind.TOPIC}
    if not notes or not (topics or categories):
        return set(), set()
    rows = off.filter(Q(topic_id__in=topics) | Q(category_id__in=categories)).values_list(
        "user_id", "topic_id", "category_id"
    )
    muted_topics, muted_categories = set(), set()
    for user_id, topic_id, category_id in rows:
        if topic_id:
            muted_topics.add((user_id, topic_id))
        else:
            muted_categories.add((user_id, category_id))
    return muted_topics, muted_categories


def send_emails(*, notification_ids: list[int]) -> int:
    """Email each notification once (``emailed_at``, set under a row lock while the email goes
    out, makes a retried, parked or duplicated task send nothing twice),
    only when the shopper asked for email on that subscription (``Subscription.email``) or was
    mentioned."""
    sent = 0
    pending = list(
        Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True)
        .select_related("user", "actor", "post__topic")
        .order_by("pk")
    )
    muted_topics, muted_categories = _email_off(pending)
    for note in pending:
        user = note.user
        if not user.email or not user.is_active:
            continue
        topic = note.post.topic
        if note.kind == Notification.Kind.REPLY and (user.pk, topic.pk) in muted_topics:
            continue  # the shopper follows this topic without email
        if (
            note.kind == Notification.Kind.TOPIC
            and (user.pk, topic.category_id) in muted_categories
        ):
            continue
        context = {
            "note": note,
            "topic": note.post.topic,
            "actor": note.actor,
            "url": settings.SITE_URL + note.post.get_absolute_url(),
            "settings_url": settings.SITE_URL + "/forums/notifications/",
        }
        message = EmailMultiAlternatives(
            subject=f"[Agora forums] {note.get_kind_display()}: {note.post.topic.title}"[:150],
            body=render_to_string("forums/emails/notification.txt", context),
            to=[user.email],
        )
        message.attach_alternative(
            render_to_string("forums/emails/notification.html", context), "text/html"
        )
        with transaction.atomic():
            # Claim it: a copy of this task running at the same moment skips it, and an SMTP
            # failure (OSError) rolls the claim back for the retry.
            mine = Notification.objects.select_for_update(skip_locked=True).filter(
                pk=note.pk, emailed_at__isnull=True
            )
            if not list(mine.values_list("pk", flat=True)):
                continue
            message.send()
            Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent
