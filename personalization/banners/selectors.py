"""Choosing a banner for a page: reads only cached data once warm (no database query).

``banner_choose`` guarantees:
- Only active banners of the placement inside their schedule are considered; the highest
  priority eligible one wins (ties: the older banner).
- A banner with segments is eligible only for a signed-in shopper who is in one of them and has
  personalization on; a banner with categories only while browsing one of them (anonymous too,
  personalization on); a banner with neither is for everyone. With personalization off a shopper
  sees only banners for everyone.
- The variant is stable per shopper: ``sha256("<banner id>:<shopper>")`` mod the total weight
  picks it, so no assignment is stored and a shopper always sees the same variant.
- The frequency cap counts views per shopper and banner in the cache (a window of
  ``cap_window_hours``); a capped banner gives way to the next eligible one.
- A call to action never leads back to the page it is shown on (``leads_here``): on that page
  such a variant is left out, and a banner with no other variant gives way to the next one.
- Nothing is cached per page: the cached inputs are the placement's banner list (the same for
  everyone) and the shopper's own segment ids, so one shopper's banner never reaches another.
"""

import dataclasses
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from config.aftercommit import cache_fill
from config.cache import cache_forget

from .models import Banner

ACTIVE_KEY = "bn:active:{}"
CAP_KEY = "bn:cap:{}:{}"


@dataclass(frozen=True)
class Creative:
    variant_id: int
    name: str
    weight: int
    headline: str
    text: str
    image_url: str
    alt_text: str
    cta_label: str
    cta_url: str


@dataclass(frozen=True)
class CachedBanner:
    id: int
    priority: int
    starts_at: datetime | None
    ends_at: datetime | None
    segment_ids: tuple[int, ...]
    category_ids: tuple[int, ...]
    frequency_cap: int | None
    cap_window_hours: int
    variants: tuple[Creative, ...]

    @property
    def targeted(self) -> bool:
        return bool(self.segment_ids or self.category_ids)


@dataclass
class Choice:
    """The banner chosen for a page, with the reason decided at that moment."""

    banner_id: int
    creative: Creative
    placement: str
    reason: str  # everyone | segment | browsing
    segment_id: int | None = None
    category_id: int | None = None
    decision_uuid: str = ""
    extra: dict = field(default_factory=dict)


def active_banners(placement: str) -> list[CachedBanner]:
    """The placement's active banners with their variants (cached; edits forget the entry)."""
    key = ACTIVE_KEY.format(placement)
    cached = cache.get(key)
    if cached is not None:
        return cached
    banners = []
    for banner in (
        Banner.objects.filter(placement=placement, is_active=True)
        .prefetch_related("variants", "segments", "categories")
        .order_by("-priority", "pk")
    ):
        variants = tuple(
            Creative(
                v.pk,
                v.name,
                v.weight,
                v.headline,
                v.text,
                v.image.url if v.image else "",
                v.alt_text,
                v.cta_label,
                v.cta_url,
            )
            for v in banner.variants.all()
            if v.weight > 0
        )
        if not variants:
            continue
        banners.append(
            CachedBanner(
                banner.pk,
                banner.priority,
                banner.starts_at,
                banner.ends_at,
                tuple(sorted(s.pk for s in banner.segments.all() if s.is_active)),
                tuple(sorted(c.pk for c in banner.categories.all())),
                banner.frequency_cap,
                banner.cap_window_hours,
                variants,
            )
        )
    cache_fill(key, banners, getattr(settings, "BANNERS_CACHE_SECONDS", 300))
    return banners


def banners_cache_forget() -> None:
    from .models import Placement

    cache_forget([ACTIVE_KEY.format(p) for p in Placement.values])


@lru_cache(maxsize=1024)
def leads_here(cta_url: str, here: str) -> bool:
    """True when following ``cta_url`` would land on ``here`` (the page's path and query
    string, as ``request.get_full_path()`` gives it): the same path (a trailing slash and the
    #fragment aside), and no query parameter the page has not already got. "/c/bags/" leads
    back to "/c/bags/?page=2"; "/c/bags/?sort=rating" does not lead back to "/c/bags/". A link
    to another host never leads here."""
    target, page = urlsplit(cta_url.strip()), urlsplit(here)
    if target.scheme or target.netloc:
        return False
    path = target.path or page.path  # "?sort=rating" or "#reviews": this very path
    if path.rstrip("/") != page.path.rstrip("/"):
        return False
    return set(parse_qsl(target.query)) <= set(parse_qsl(page.query))


def banners_for_page(banners, here: str) -> list[CachedBanner]:
    """``banners`` as the page ``here`` may show them: without the variants whose call to
    action leads back to this page, and without the banners left with no variant (see
    ``leads_here``). Order and the other fields unchanged; no query, no cache read."""
    if not here:
        return list(banners)
    kept = []
    for banner in banners:
        variants = tuple(v for v in banner.variants if not leads_here(v.cta_url, here))
        if len(variants) == len(banner.variants):
            kept.append(banner)
        elif variants:
            kept.append(dataclasses.replace(banner, variants=variants))
    return kept


def variant_for(banner: CachedBanner, shopper: str) -> Creative:
    """The shopper's variant: stable, proportional to the weights (no stored assignment)."""
    total = sum(v.weight for v in banner.variants)
    digest = hashlib.sha256(f"{banner.id}:{shopper}".encode()).digest()
    return variant_at(banner, int.from_bytes(digest[:8], "big") % total)


def variant_at(banner: CachedBanner, point: int) -> Creative:
    """The variant at ``point`` (0 <= point < the total weight) along the weights, in order."""
    for variant in banner.variants:
        if point < variant.weight:
            return variant
        point -= variant.weight
    return banner.variants[-1]  # unreachable: the weights add up to total


RECENT_KEY = "bn:recent:{}"
RECENT_LIMIT = 10
RECENT_SECONDS = 24 * 3600


def visitor_recent_categories(visitor: str, *, current=()) -> tuple[int, ...]:
    """The categories an anonymous visitor browsed lately, newest first, ``current`` (the page's
    category chain) in front: their session's behaviour for category-targeted banners.

    Read from the cache (``bn:recent:<visitor id>``, a day); on a miss, from the visitor's own
    events (their latest 20 product events: each product's category and its parent; one indexed
    query on ``Event.session_key``). Written back only when it changed. At most RECENT_LIMIT
    ids; ``visitor`` "" gives ``current`` alone.
    """
    current = tuple(current)
    if not visitor:
        return current
    key = RECENT_KEY.format(visitor)
    recent = cache.get(key)
    missed = recent is None
    if missed:
        from personalization.models import Event

        rows = (
            Event.objects.filter(session_key=visitor, user__isnull=True, product__isnull=False)
            .order_by("-occurred_at", "-pk")
            .values_list("product__category_id", "product__category__parent_id")[:20]
        )
        recent = tuple(dict.fromkeys(pk for pair in rows for pk in pair if pk is not None))[
            :RECENT_LIMIT
        ]
    merged = tuple(dict.fromkeys((*current, *recent)))[:RECENT_LIMIT]
    if missed or merged != recent:
        cache_fill(key, merged, RECENT_SECONDS)
    return merged


def shopper_key(*, user, visitor: str) -> str:
    if user is not None and user.is_authenticated:
        return f"u{user.pk}"
    return f"v{visitor}"


def banner_choose(
    *,
    placement: str,
    user=None,
    visitor: str = "",
    category_ids=(),
    now=None,
    banners=None,
    segments=None,
    here: str = "",
) -> Choice | None:
    """Pick the banner for ``placement`` and this shopper (see the module docstring).

    ``category_ids``: the categories the shopper is browsing (the page's category and its
    ancestors). Returns None when no banner is eligible. Counts a view for the frequency cap.
    ``banners``: the placement's ``active_banners`` when the caller already holds them (a page
    kept by ``shop.pagecache``, whose version banner edits bump). ``segments``: the shopper's
    cached ``shopper_segments`` entry when the caller already read it (``shop.signed`` reads
    it with the page), None to read it here. ``here``: the page's path and query string, whose
    own links are left out (``banners_for_page``); the caller filters ``banners`` it passes.
    """
    from personalization.segments.selectors import CACHE_KEY as SEGMENTS_KEY
    from personalization.segments.selectors import shopper_segments

    now = now or timezone.now()
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    # Warm: one cache round trip (MGET) for the placement's banners (unless the caller holds
    # them) and the shopper's segments.
    banners_key = ACTIVE_KEY.format(placement)
    segments_key = SEGMENTS_KEY.format(user.pk) if signed_in and segments is None else None
    wanted = ([banners_key] if banners is None else []) + ([segments_key] if segments_key else [])
    found = cache.get_many(wanted) if wanted else {}
    if banners is None:
        banners = found.get(banners_key)
        if banners is None:
            banners = active_banners(placement)
        banners = banners_for_page(banners, here)
    if not banners:
        return None
    enabled, segment_ids = True, frozenset()
    if signed_in:
        enabled, segment_ids = segments or found.get(segments_key) or shopper_segments(user)
    browsing = set(category_ids) if enabled else set()
    # A visitor with no anonymous id (no session yet) cannot be counted or kept on one variant:
    # frequency caps are not counted for them and the A/B variant is drawn at random per view.
    who = shopper_key(user=user, visitor=visitor) if signed_in or visitor else None
    eligible = []
    for banner in banners:
        if not in_schedule(banner, now):
            continue
        reason = targeting(
            banner,
            signed_in=signed_in,
            enabled=enabled,
            segment_ids=segment_ids,
            browsing=browsing,
        )
        if reason is not None:
            eligible.append((banner, *reason))
    if not eligible:
        return None
    for banner, reason, segment_id, category_id in eligible:
        if banner.frequency_cap and who:
            views = _cap_count(CAP_KEY.format(banner.id, who), banner.cap_window_hours * 3600)
            if views > banner.frequency_cap:
                continue  # this view would pass the cap: the next eligible banner instead
        return Choice(
            banner.id,
            variant_for(banner, who or f"v{uuid.uuid4().hex}"),
            placement,
            reason,
            segment_id=segment_id,
            category_id=category_id,
        )
    return None


def in_schedule(banner: CachedBanner, now: datetime) -> bool:
    """True when ``now`` is inside the banner's schedule (starts_at inclusive, ends_at not)."""
    return not (
        banner.starts_at and banner.starts_at > now or banner.ends_at and banner.ends_at <= now
    )


def targeting(banner: CachedBanner, *, signed_in: bool, enabled: bool, segment_ids, browsing):
    """Why ``banner`` may be shown to this shopper, as (reason, segment id, category id), or
    None when it may not (see the module; the schedule and the frequency cap aside)."""
    if not banner.targeted:
        return "everyone", None, None
    if not enabled:
        return None
    if banner.segment_ids and signed_in:
        matched = [s for s in banner.segment_ids if s in segment_ids]
        if matched:
            return "segment", matched[0], None
    if banner.category_ids:
        matched = [c for c in banner.category_ids if c in browsing]
        if matched and not banner.segment_ids:
            return "browsing", None, matched[0]
    return None


def _cap_count(key: str, window_seconds: int) -> int:
    """Count one view against a frequency cap; returns the views in the window, this one
    included. The window starts at the first view (the key's expiry is set once).

    Redis: INCR and EXPIRE NX in one round trip (a view past the cap is counted too, which
    changes nothing: the banner stays capped until the window ends). While Redis is down the
    count restarts (the cache fails open: the banner may show once more, the page never
    breaks). Elsewhere: the cache's add / incr.
    """
    from config.cache import REDIS_DOWN, raw_redis

    client = raw_redis()
    if client is not None:
        full = cache.make_key(key)
        try:
            pipe = client.pipeline(transaction=False)
            pipe.incr(full)
            pipe.expire(full, window_seconds, nx=True)
            views, _ = pipe.execute()
            return int(views)
        except REDIS_DOWN:
            return 1
    if cache.add(key, 1, window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window_seconds)
        return 1
