"""Recording events: one insert from the service that did the act. Analysis happens in tasks.

Views and searches, the events that every page records, cost the request less: they are added
to a Redis stream (``XADD``, one round trip) and copied into the Event table in bulk by the
``personalization.tasks.drain_event_stream`` task (every 10 s, and before each incremental
profile build). When the stream is off (``AGORA_EVENT_STREAM``, default on with Redis) or Redis
does not answer, they are inserted directly, so nothing is lost.
"""

import json
import logging
from decimal import Decimal
from uuid import uuid4

from django.conf import settings
from django.core.cache import caches
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.cache import defer_redis_write, deferring, raw_redis

from .models import Event, EventStreamCursor

logger = logging.getLogger(__name__)

STREAM_KEY = "personalization:event-stream"
STREAMED_KINDS = frozenset({Event.Kind.VIEW, Event.Kind.SEARCH})
DRAIN_BATCH = 5000


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


def existing_anonymous_id(request) -> str:
    """The visitor's anonymous id when they already have one, else ``""``; never creates a
    session (store pages set no cookie for a visitor until one is needed: ``shop.lazy``)."""
    session = getattr(request, "session", None)
    return (session.get(ANON_KEY) or "") if session is not None else ""


def record_for_request(kind: str, request, **kwargs) -> Event | None:
    """Record for whoever made ``request``: the signed-in shopper or the anonymous visitor.

    An anonymous visitor's event carries their anonymous id when they have one (a cart, a like,
    a share made one), so it joins the shopper at sign-in; a visitor without one gets no
    session for it and the event is kept without a key (it still counts for the product).

    Views and searches of signed-in shoppers and of visitors without an id go through the
    stream (returns None); the rest is inserted at once (returns the Event). A visitor's keyed
    events are inserted at once so that the merge at sign-in finds every one of them.
    """
    if request.user.is_authenticated:
        pending = getattr(request, REPLAY, None)
        if pending is not None:  # a signed-in page shop.signed may keep: again on each hit
            _pending(pending, kind, kwargs)
        return record_streamed(kind, user=request.user, **kwargs)
    session_key = existing_anonymous_id(request)
    if session_key:
        return record(kind, session_key=session_key, **kwargs)
    pending = getattr(request, REPLAY, None)
    if pending is not None:  # the page may be cached: record this event again on each hit
        _pending(pending, kind, kwargs)
    return record_streamed(kind, **kwargs)


def _pending(pending: list, kind: str, kwargs: dict) -> None:
    product = kwargs.get("product")
    attributes = {k: v for k, v in kwargs.items() if k != "product"}
    pending.append((kind, product.pk if product is not None else None, attributes))


#: Set by the whole-page cache (``shop.pagecache``) to a list on a request whose page it may
#: keep: the keyless events recorded while rendering it, replayed on every hit.
REPLAY = "_agora_event_replay"


def replay(entries) -> None:
    """Record again the keyless events a cached page recorded when it was rendered, as
    ``record_streamed`` does (the stream, or one insert each when the stream is off): a page
    served from the cache counts exactly as a rendered one. ``entries``: (kind, product id or
    None, attributes) tuples."""
    from shop.models import Product

    for kind, product_id, attributes in entries:
        product = Product(pk=product_id) if product_id is not None else None
        record_streamed(kind, product=product, **attributes)


def prepare_replay(entries):
    """``replay(entries)`` as a zero-argument callable for a cached page's copy, which replays
    the same entries on every hit: with the stream on and inside ``deferred_redis_writes``
    (the whole-page cache's hit), each stream payload is encoded once here and only its time
    is filled per call (the payloads equal ``record_streamed``'s); anywhere else it is
    ``replay(entries)``."""
    entries = list(entries)
    marker = f"occurred-{uuid4().hex}"
    encoded = []
    for kind, product_id, attributes in entries:
        payload = _stream_payload(kind, None, "", product_id, None, attributes, marker)
        head, _sep, tail = payload.partition(marker)
        encoded.append((head, tail))

    # an attribute named like one of record_streamed's parameters would bind to it: replay()
    named = {"user", "session_key", "product", "value"}
    streamable = all(kind in STREAMED_KINDS and not named & a.keys() for kind, _p, a in entries)

    def run(key: str | None = None) -> None:
        """Replay now; ``key``: the stream's key when the caller knows the stream is on (the
        page cache's hit, which holds it), else None (checked here)."""
        if not entries:
            return
        if not streamable or not deferring() or key is None and stream_client() is None:
            replay(entries)
            return
        key, now = key or stream_key(), timezone.now().isoformat()
        for head, tail in encoded:
            defer_redis_write("XADD", key, "*", "e", f"{head}{now}{tail}")

    return run


def replay_for_user(entries, *, user_id: int) -> None:
    """``replay`` for a signed-in shopper's cached page (``shop.signed``): each event is
    recorded again for the shopper ``user_id`` (an id), as ``record_for_request`` records it
    for them (the stream, or one insert each when the stream is off)."""
    from django.contrib.auth import get_user_model

    from shop.models import Product

    user = get_user_model()(pk=user_id)
    for kind, product_id, attributes in entries:
        product = Product(pk=product_id) if product_id is not None else None
        record_streamed(kind, user=user, product=product, **attributes)


# --- the Redis stream ------------------------------------------------------------------------


def stream_client():
    """The Redis client events are streamed to, or None when the stream is off."""
    if not getattr(settings, "AGORA_EVENT_STREAM", False):
        return None
    return raw_redis()


def stream_key() -> str:
    """The stream's key, under the cache's key prefix (each deployment and test run its own)."""
    return caches["default"].make_key(STREAM_KEY)


def record_streamed(
    kind: str, *, user=None, session_key: str = "", product=None, value=None, **attributes
) -> Event | None:
    """Add a view or search to the stream (None), or insert it when the stream is off, Redis
    fails or the kind is not streamed (the Event). The payload is what ``record`` stores."""
    if user is not None and not user.is_authenticated:
        user = None
    client = stream_client() if kind in STREAMED_KINDS else None
    if client is not None:
        data = _stream_payload(
            kind,
            user.pk if user else None,
            "" if user else (session_key or ""),
            product.pk if product is not None else None,
            value,
            attributes,
            timezone.now().isoformat(),
        )
        # a cached page's hit sends it with the page's version check, in one round trip
        if defer_redis_write("XADD", stream_key(), "*", "e", data):
            return None
        from config.redisbatch import queue

        fields = {"e": data}
        direct = dict(user=user, session_key=session_key, product=product, value=value)
        if queue(  # sent with the request's other small writes (config.redisbatch)
            lambda pipe: pipe.xadd(stream_key(), fields),
            lambda: record(kind, **direct, **attributes),
        ):
            return None
        try:
            client.xadd(stream_key(), fields)
            return None
        except Exception:  # Redis down or refusing: the direct insert loses nothing
            logger.warning("event stream unavailable; recording %s directly", kind, exc_info=True)
    return record(
        kind, user=user, session_key=session_key, product=product, value=value, **attributes
    )


def _stream_payload(
    kind, user_id, session_key, product_id, value, attributes, occurred_at: str
) -> str:
    """An event as the stream keeps it (JSON; ``stream_drain`` reads it back)."""
    payload = {
        "kind": kind,
        "user_id": user_id,
        "session_key": session_key,
        "product_id": product_id,
        "value": None if value is None else str(value),
        "attributes": attributes,
        "occurred_at": occurred_at,
    }
    return json.dumps(payload, cls=DjangoJSONEncoder)


def _rows(entries) -> list[Event]:
    """Events from stream entries; shoppers erased meanwhile are dropped, removed products
    become None (as ``on_delete`` would have done to a stored event)."""
    from django.contrib.auth import get_user_model

    from shop.models import Product

    payloads = [json.loads(fields[b"e"]) for _id, fields in entries]
    user_ids = {p["user_id"] for p in payloads if p["user_id"]}
    product_ids = {p["product_id"] for p in payloads if p["product_id"]}
    users = set(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", flat=True))
    products = set(Product.objects.filter(pk__in=product_ids).values_list("pk", flat=True))
    rows = []
    for p in payloads:
        if p["user_id"] and p["user_id"] not in users:
            continue
        rows.append(
            Event(
                kind=p["kind"],
                user_id=p["user_id"],
                session_key=p["session_key"],
                product_id=p["product_id"] if p["product_id"] in products else None,
                value=None if p["value"] is None else Decimal(p["value"]),
                attributes=p["attributes"],
                occurred_at=parse_datetime(p["occurred_at"]),
            )
        )
    return rows


def stream_drain(*, batch: int = DRAIN_BATCH) -> int:
    """Copy the streamed events into the Event table in bulk; returns how many were copied.

    Exactly once: each batch's rows and the cursor (the last entry copied) commit together,
    under a row lock that serialises concurrent drains; entries are deleted from Redis only
    after that commit, and a later drain starts after the cursor. Does nothing without Redis.
    """
    client = raw_redis()
    if client is None:
        return 0
    key = stream_key()
    EventStreamCursor.objects.get_or_create(stream=key[:200])
    total = 0
    while True:
        with transaction.atomic():
            cursor = EventStreamCursor.objects.select_for_update().get(stream=key[:200])
            if cursor.last_id:  # a drain that died before its delete left these behind
                client.xtrim(key, minid=cursor.last_id, approximate=False)
            start = f"({cursor.last_id}" if cursor.last_id else "-"
            entries = client.xrange(key, min=start, max="+", count=batch)
            if not entries:
                return total
            rows = _rows(entries)
            Event.objects.bulk_create(rows, batch_size=1000)
            cursor.last_id = entries[-1][0].decode()
            cursor.copied += len(rows)
            cursor.updated_at = timezone.now()
            cursor.save(update_fields=["last_id", "copied", "updated_at"])
        client.xtrim(key, minid=cursor.last_id, approximate=False)
        client.xdel(key, cursor.last_id)
        total += len(rows)
        if len(entries) < batch:
            return total


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
