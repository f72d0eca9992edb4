"""Recording events: one insert from the service that did the act. Analysis happens in tasks."""

from decimal import Decimal
from uuid import uuid4

from django.db import transaction
from django.utils import timezone

from .models import Event


def record(
    kind: str,
    *,
    user=None,
    session_key: str = "",
    product=None,
    value: Decimal | None = None,
    occurred_at=None,
    **attributes,
) -> Event:
    """Append one event. ``user`` wins over ``session_key``; anonymous events keep the session."""
    if user is not None and not user.is_authenticated:
        user = None
    return Event.objects.create(
        kind=kind,
        user=user,
        session_key="" if user else (session_key or ""),
        product=product,
        value=value,
        attributes=attributes,
        occurred_at=occurred_at or timezone.now(),
    )


ANON_KEY = "anon_id"


def anonymous_id(request) -> str:
    """A stable id for an anonymous visitor, kept in the session data.

    Unlike the session key it survives the key change at sign-in, so the visitor's events and
    cart can be handed to the shopper afterwards.
    """
    anon_id = request.session.get(ANON_KEY)
    if not anon_id:
        anon_id = uuid4().hex
        request.session[ANON_KEY] = anon_id
    return anon_id


def record_for_request(kind: str, request, **kwargs) -> Event:
    """Record for whoever made ``request``: the signed-in shopper or the anonymous visitor."""
    if request.user.is_authenticated:
        return record(kind, user=request.user, **kwargs)
    return record(kind, session_key=anonymous_id(request), **kwargs)


@transaction.atomic
def merge_anonymous(*, session_key: str, user) -> int:
    """Give a session's anonymous events to the shopper who just signed in.

    Events already behind the profile watermark are folded in by a rebuild of that shopper.
    """
    if not session_key:
        return 0
    merged = Event.objects.filter(user__isnull=True, session_key=session_key).update(
        user=user, session_key=""
    )
    if merged:
        from .tasks import rebuild_profile

        user_id = user.pk
        transaction.on_commit(lambda: rebuild_profile.delay(user_id))
    return merged


def record_text_signal(
    *,
    user,
    sentiment: float | None = None,
    intent: str = "",
    category_id: int | None = None,
    expires_at=None,
    product=None,
    source: str = "",
    occurred_at=None,
) -> Event:
    """Record what a shopper's own text says (a review, a forum post) for their profile.

    The attribute contract read by the profile build: ``sentiment`` a number in [-1, 1]
    (clamped), ``intent`` a short lower-case word such as ``"replacement"``, ``category_id`` the
    shop category the intent is about, ``expires_at`` an ISO 8601 time with offset (default:
    PERSONALIZATION_INTENT_TTL_DAYS after the event), ``source`` e.g. ``"review:12"``.
    """
    attributes = {}
    if sentiment is not None:
        attributes["sentiment"] = max(-1.0, min(1.0, float(sentiment)))
    if intent:
        attributes["intent"] = str(intent).strip().lower()[:40]
        if category_id is not None:
            attributes["category_id"] = int(category_id)
        if expires_at is not None:
            attributes["expires_at"] = expires_at.isoformat()
    if source:
        attributes["source"] = str(source)[:80]
    return record(
        Event.Kind.TEXT_SIGNAL, user=user, product=product, occurred_at=occurred_at, **attributes
    )
