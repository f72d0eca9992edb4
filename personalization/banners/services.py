"""Write side of banners: recording decisions cheaply, folding them in, clicks, picking winners.

On the page, ``banner_decision_record`` appends the decision to a Redis list (one RPUSH, no
database write); ``banner_decisions_flush`` (a task every minute, and before a "why" page or a
click reads a decision) writes the rows in bulk, adds the rule path that matched and adds the
impressions to the variants' counters. Without Redis (the embedded demo) the row is written at
once: slower, never lost.
"""

import json
import logging
import time
import uuid
from collections import Counter

from django.core.cache import caches
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from redis.exceptions import ResponseError

from config.cache import REDIS_DOWN, defer_redis_write, raw_redis
from config.redisbatch import queue as batch_queue

from .exceptions import BannerError
from .models import Banner, BannerDecision, BannerVariant
from .selectors import Choice, banners_cache_forget

QUEUE_KEY = "bn:decisions"
logger = logging.getLogger("agora.banners")


#: (settings generation, key): the queue key is asked for on every anonymous cache hit with a
#: banner, and ``caches["default"]`` costs a thread-local look-up each time (issue 15).
_queue_key_memo: list = [None]


def _queue_key() -> str:
    """The decision queue's Redis key, under the cache's key prefix (so a deployment or a test
    run that uses its own prefix has its own queue). Worked out once per process and again
    after any setting changes (``override_settings(CACHES=...)``)."""
    found = _queue_key_memo[0]
    if found is None:
        found = _queue_key_memo[0] = caches["default"].make_key(QUEUE_KEY)
    return found


def _forget_queue_key(**kwargs) -> None:
    _queue_key_memo[0] = None


setting_changed.connect(_forget_queue_key, dispatch_uid="banners.services.queue_key")


FLUSH_BATCH = 5000


def decision_row(*, choice: Choice, user, visitor: str, decision_uuid: str, chosen_at: str) -> dict:
    """A decision as the queue keeps it (JSON of this dict; ``banner_decisions_flush`` reads
    it). ``chosen_at``: an ISO 8601 time."""
    return {
        "uuid": decision_uuid,
        "user_id": user.pk if user is not None and user.is_authenticated else None,
        "visitor": "" if user is not None and user.is_authenticated else visitor[:64],
        "banner_id": choice.banner_id,
        "variant_id": choice.creative.variant_id,
        "placement": choice.placement,
        "reason": choice.reason,
        "segment_id": choice.segment_id,
        "category_id": choice.category_id,
        "chosen_at": chosen_at,
    }


def queue_key() -> str:
    """The decision queue's Redis key (``_queue_key``), for callers that defer the RPUSH."""
    return _queue_key()


def banner_decision_record(*, choice: Choice, user=None, visitor: str = "") -> str:
    """Store why ``choice`` was made, now; returns the decision's uuid (for why/click links)."""
    decision_uuid = uuid.uuid4().hex
    row = decision_row(
        choice=choice,
        user=user,
        visitor=visitor,
        decision_uuid=decision_uuid,
        chosen_at=timezone.now().isoformat(),
    )
    client = raw_redis()
    queued = False
    if client is not None:
        # a cached page's hit sends it with the page's version check, in one round trip
        queued = defer_redis_write("RPUSH", _queue_key(), json.dumps(row))
    if (
        client is not None
        and not queued
        and batch_queue(
            lambda pipe: pipe.rpush(_queue_key(), json.dumps(row)), lambda: _write([row])
        )
    ):
        queued = True  # sent with the request's other small writes (config.redisbatch)
    elif client is not None and not queued:
        try:
            client.rpush(_queue_key(), json.dumps(row))
            queued = True
        except REDIS_DOWN:
            # Redis is down: the decision is written straight to PostgreSQL (one insert), so
            # the "why" link still works and nothing is lost (issue 16).
            queued = False
    if not queued:
        _write([row])
    choice.decision_uuid = decision_uuid
    return decision_uuid


#: A processing list older than this (seconds, from the time in its name) belongs to a flush
#: that died (the task's hard time limit is 150 s); the next flush takes it over.
ORPHAN_AFTER_SECONDS = 300


def _processing_key(started: float) -> str:
    return f"{_queue_key()}:processing:{int(started)}:{uuid.uuid4().hex}"


def _orphans(client, now: float) -> list[str]:
    """Processing lists of flushes that died (or failed: their time is 0), oldest first."""
    found = []
    for raw in client.scan_iter(match=f"{_queue_key()}:processing:*", count=100):
        key = raw.decode() if isinstance(raw, bytes) else raw
        try:
            started = int(key.rsplit(":", 2)[-2])
        except ValueError:
            continue
        if now - started > ORPHAN_AFTER_SECONDS:
            found.append((started, key))
    return [key for _, key in sorted(found)]


def _flush_list(client, key: str) -> int:
    """Write every decision of the processing list ``key``, then delete it; returns how many
    rows were new. On an error the list is kept, renamed as failed (time 0), for the next flush."""
    written = 0
    for start in range(0, client.llen(key), FLUSH_BATCH):
        raw = client.lrange(key, start, start + FLUSH_BATCH - 1)
        try:
            written += _write([json.loads(item) for item in raw])
        except Exception:
            try:
                client.rename(key, f"{_queue_key()}:processing:0:{uuid.uuid4().hex}")
            except Exception as exc:  # Redis gone too: the list keeps its name, ages, is taken
                logger.warning("banner decisions left in %s for a later flush: %s", key, exc)
            raise
    client.delete(key)
    return written


def banner_decisions_flush() -> int:
    """Write the queued decisions to PostgreSQL; returns how many rows were new.

    Crash-safe and exactly once: the queue is first RENAMEd (atomically) to a processing list
    of this flush's own, so the page keeps appending to a fresh queue; its decisions are
    written in batches (``_write``: a decision's uuid, made when it was recorded, is unique,
    and rows already there are skipped with their impressions, in the same transaction); the
    list is deleted only after the last batch committed. A flush killed anywhere in between
    leaves its list behind, and a later flush takes over lists older than
    ``ORPHAN_AFTER_SECONDS`` (one that failed with an error at once) by another RENAME, so
    only one flush ever writes a list, and re-writing a half-written list adds nothing twice.
    Redis unreachable: 0 (decisions were written straight to PostgreSQL meanwhile).
    """
    client = raw_redis()
    if client is None:
        return 0
    total = 0
    try:
        now = time.time()
        for orphan in _orphans(client, now):
            mine = _processing_key(now)
            try:
                client.rename(orphan, mine)  # only one flush wins an orphan
            except ResponseError:
                continue  # taken by another flush meanwhile
            total += _flush_list(client, mine)
        mine = _processing_key(now)
        try:
            client.rename(_queue_key(), mine)
        except ResponseError:  # no such key: nothing is queued
            return total
        return total + _flush_list(client, mine)
    except REDIS_DOWN as exc:
        logger.warning("banner decisions not flushed (Redis unreachable): %s", exc)
        return total


@transaction.atomic
def _write(rows) -> int:
    """Insert the decisions of ``rows`` (dicts as recorded) that are not there yet and count
    their impressions; returns how many were new. Idempotent by decision uuid."""
    from datetime import datetime

    from personalization.segments.models import Segment

    versions = dict(
        Segment.objects.filter(
            pk__in={r["segment_id"] for r in rows if r["segment_id"]}
        ).values_list("pk", "version")
    )
    existing_banners = set(
        Banner.objects.filter(pk__in={r["banner_id"] for r in rows}).values_list("pk", flat=True)
    )
    already = set(
        BannerDecision.objects.filter(uuid__in=[uuid.UUID(r["uuid"]) for r in rows]).values_list(
            "uuid", flat=True
        )
    )
    decisions = []
    reasons = {}  # one evaluation per (shopper, segment, category) and batch
    for row in rows:
        if row["banner_id"] not in existing_banners or uuid.UUID(row["uuid"]) in already:
            continue  # deleted since, or written by an earlier run
        key = (row["reason"], row["user_id"], row["segment_id"], row["category_id"])
        if key not in reasons:
            reasons[key] = _why(row)
        path, words = reasons[key]
        decisions.append(
            BannerDecision(
                uuid=uuid.UUID(row["uuid"]),
                user_id=row["user_id"],
                visitor=row["visitor"],
                banner_id=row["banner_id"],
                variant_id=row["variant_id"],
                placement=row["placement"],
                reason=row["reason"],
                segment_id=row["segment_id"],
                segment_version=versions.get(row["segment_id"]),
                category_id=row["category_id"],
                rule_path=path,
                explanation=words,
                chosen_at=datetime.fromisoformat(row["chosen_at"]),
            )
        )
    BannerDecision.objects.bulk_create(decisions, ignore_conflicts=True)
    impressions = Counter(d.variant_id for d in decisions)
    for variant_id, count in impressions.items():
        BannerVariant.objects.filter(pk=variant_id).update(impressions=F("impressions") + count)
    return len(decisions)


def _why(row) -> tuple[list, list[str]]:
    """The rule path that matched and its plain words, for one decision."""
    if row["reason"] == "segment" and row["user_id"]:
        from django.contrib.auth import get_user_model

        from personalization.segments.models import Segment
        from personalization.segments.rules import Context, RuleError, get_rule, tree_matches

        segment = Segment.objects.filter(pk=row["segment_id"]).first()
        user = get_user_model().objects.filter(pk=row["user_id"]).first()
        if segment is None or user is None:
            return [], []
        ctx = Context.for_user(user)
        try:
            matched = tree_matches(segment.rules, ctx) or []
        except RuleError:
            matched = []
        path = [
            {
                "path": p,
                "type": node["type"],
                "explain": get_rule(node["type"]).explain_for(ctx, node["params"]),
            }
            for p, node in matched
        ]
        words = [item["explain"] for item in path] or [f"You are in our “{segment.name}” group"]
        return path, words
    if row["reason"] == "browsing" and row["category_id"]:
        from shop.models import Category

        name = Category.objects.filter(pk=row["category_id"]).values_list("name", flat=True)
        return [], [f"You are browsing or lately looked at {name.first() or 'this category'}"]
    return [], ["This banner is shown to everyone: it does not use anything about you"]


def banner_decision_for(*, decision_uuid: str, user, visitor: str) -> BannerDecision:
    """The decision if it belongs to this shopper (flushes the queue first). Raises BannerError."""
    try:
        key = uuid.UUID(str(decision_uuid))
    except ValueError:
        raise BannerError("There is no such banner.") from None
    banner_decisions_flush()
    decision = (
        BannerDecision.objects.select_related("banner", "variant", "segment", "category")
        .filter(uuid=key)
        .first()
    )
    if decision is None:
        raise BannerError("There is no such banner.")
    signed_in = user is not None and user.is_authenticated
    mine = (
        decision.user_id == user.pk
        if signed_in
        else (decision.user_id is None and visitor and decision.visitor == visitor)
    )
    if not mine:
        raise BannerError("There is no such banner.")
    return decision


@transaction.atomic
def banner_click(*, decision: BannerDecision) -> str:
    """Count the first click of a decision (conditional update) and return where to go."""
    first = BannerDecision.objects.filter(pk=decision.pk, clicked_at__isnull=True).update(
        clicked_at=timezone.now()
    )
    if first:
        BannerVariant.objects.filter(pk=decision.variant_id).update(clicks=F("clicks") + 1)
    return decision.variant.cta_url


@transaction.atomic
def banner_pick_winner(*, banner: Banner, variant: BannerVariant) -> Banner:
    """Send all traffic to ``variant`` from now on (the others keep their figures)."""
    if variant.banner_id != banner.pk:
        raise BannerError("That variant belongs to another banner.")
    BannerVariant.objects.filter(banner=banner).exclude(pk=variant.pk).update(weight=0)
    BannerVariant.objects.filter(pk=variant.pk).update(weight=100)
    banner.winner_picked_at = timezone.now()
    banner.save(update_fields=["winner_picked_at", "updated_at"])
    transaction.on_commit(banners_cache_forget)
    return banner


def banners_changed() -> None:
    """Call after editing banners: pages see the change at once (cached store pages too:
    they keep the active banners they were rendered with, ``shop.pagecache``)."""
    from shop.pagecache import storefront_changed

    transaction.on_commit(banners_cache_forget)
    storefront_changed()


BANNER_FIELDS = (
    "name",
    "placement",
    "priority",
    "starts_at",
    "ends_at",
    "is_active",
    "frequency_cap",
    "cap_window_hours",
)
VARIANT_FIELDS = tuple(f for f in BannerVariant.CREATIVE_FIELDS if f != "image")


def _check_window(banner: Banner) -> None:
    if banner.starts_at and banner.ends_at and banner.ends_at <= banner.starts_at:
        raise BannerError("A banner must end after it starts.")


@transaction.atomic
def banner_save(
    *,
    banner_id: int | None = None,
    fields: dict,
    segment_ids=None,
    category_ids=None,
    variants=None,
) -> Banner:
    """Create (``banner_id`` None) or change a banner: its fields, target segments and
    categories (lists of ids; None keeps them) and creatives (``variants``: a list of dicts
    with VARIANT_FIELDS; None keeps them, a list replaces them and resets their figures).

    A new banner needs at least one variant. Pages see the change after commit. Raises
    Banner.DoesNotExist, BannerError (bad window, unknown segment/category, no variant).
    """
    from personalization.segments.models import Segment
    from shop.models import Category

    banner = Banner() if banner_id is None else Banner.objects.select_for_update().get(pk=banner_id)
    for name, value in fields.items():
        if name not in BANNER_FIELDS:
            raise BannerError(f"Unknown banner field {name}.")
        setattr(banner, name, value)
    _check_window(banner)
    if banner_id is None and not variants:
        raise BannerError("A banner needs at least one creative (variant).")
    banner.save()
    for ids, model, relation in (
        (segment_ids, Segment, banner.segments),
        (category_ids, Category, banner.categories),
    ):
        if ids is None:
            continue
        found = list(model.objects.filter(pk__in=set(ids)))
        if len(found) != len(set(ids)):
            missing = sorted(set(ids) - {o.pk for o in found})
            raise BannerError(f"No {model._meta.verbose_name} with id {missing[0]}.")
        relation.set(found)
    if variants is not None:
        if not variants:
            raise BannerError("A banner needs at least one creative (variant).")
        banner.variants.all().delete()
        BannerVariant.objects.bulk_create(
            [
                BannerVariant(
                    banner=banner, **{k: v for k, v in item.items() if k in VARIANT_FIELDS}
                )
                for item in variants
            ]
        )
    banners_changed()
    return banner


@transaction.atomic
def banner_delete(*, banner_id: int) -> bool:
    """Delete a banner with its variants and decisions; True if it existed."""
    deleted = Banner.objects.filter(pk=banner_id).delete()[0] > 0
    banners_changed()
    return deleted


# Creatives: the formats browsers show everywhere, and a size that keeps pages light.
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
IMAGE_MAX_BYTES = 5 * 1024 * 1024


def banner_image_check(upload):
    """The uploaded creative image, checked: Pillow opens it (``forms.ImageField``), its format
    is one of IMAGE_FORMATS and it is at most IMAGE_MAX_BYTES (5 MiB). The admin's creative
    form and the API both use it. Returns the file (with ``.image``); raises BannerError."""
    from django import forms
    from django.core.exceptions import ValidationError

    if upload is None:
        raise BannerError("Choose an image file to upload.")
    if upload.size > IMAGE_MAX_BYTES:
        raise BannerError(
            f"The image is {upload.size / 1048576:.1f} MB; at most "
            f"{IMAGE_MAX_BYTES // 1048576} MB, please."
        )
    try:
        checked = forms.ImageField().clean(upload)
    except ValidationError as error:
        raise BannerError(" ".join(error.messages)) from None
    found = getattr(getattr(checked, "image", None), "format", None)
    if found not in IMAGE_FORMATS:
        raise BannerError(
            f"Upload a {', '.join(sorted(IMAGE_FORMATS))} image (this one is {found or 'unknown'})."
        )
    return checked


@transaction.atomic
def banner_variant_image_set(*, banner_id: int, variant_id: int, upload) -> BannerVariant:
    """Set the image of one creative (``variant_id`` of banner ``banner_id``) from an uploaded
    file, validated as the admin's image field validates it (Pillow must open it as an image:
    ``forms.ImageField``), limited to IMAGE_FORMATS and IMAGE_MAX_BYTES (5 MiB).

    The previous file is deleted after commit. Raises BannerVariant.DoesNotExist, BannerError
    (no file, not an image, a format we do not show, too large); nothing changes then.
    """
    variant = BannerVariant.objects.select_for_update().get(pk=variant_id, banner_id=banner_id)
    checked = banner_image_check(upload)
    checked.seek(0)
    old = variant.image.name if variant.image else ""
    storage = variant.image.storage
    variant.image.save(checked.name, checked, save=False)
    variant.save(update_fields=["image"])
    if old and old != variant.image.name:
        transaction.on_commit(lambda: storage.delete(old))
    banners_changed()
    return variant
