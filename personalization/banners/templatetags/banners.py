"""``{% banner "home_hero" %}``: the chosen banner for this page and shopper, with its why link."""

import functools
import json
import os
from functools import lru_cache
from uuid import uuid4

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from config.cache import defer_redis_write, deferring
from personalization.events import existing_anonymous_id

from ..selectors import (
    Choice,
    active_banners,
    banner_choose,
    banners_for_page,
    in_schedule,
    targeting,
    variant_at,
)
from ..services import banner_decision_record, decision_row, queue_key

register = template.Library()
TEMPLATE = "banners/_banner.html"
#: Renders the banner again on every hit of a cached page (``shop.pagecache.hole``).
KEYLESS_RENDERER = "personalization.banners.templatetags.banners.banner_html_for_keyless"
#: The same for a signed-in shopper's page kept by ``shop.signed``.
SHOPPER_RENDERER = "personalization.banners.templatetags.banners.banner_html_for_shopper"


#: Stands for the decision's uuid in a banner rendered once per process: 32 hex digits like
#: the uuid (escaped alike), random per process (no creative can hold it).
_SLOT = uuid4().hex
#: Stands for a decision's time in a row encoded once per process (hex digits: no JSON escape).
_WHEN = uuid4().hex


#: uuid4's fixed bits (RFC 4122: version 4, variant 10) over a 128-bit random integer.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (4 << 76) | (0x8000 << 48)


def _uuid4_hex(raw: bytes) -> str:
    """``uuid.UUID(bytes=raw, version=4).hex`` for 16 random bytes ``raw``, without building
    the object (a cached page's banner hole draws one per view; issue 15)."""
    return f"{int.from_bytes(raw, 'big') & _UUID_CLEAR | _UUID_SET:032x}"


@lru_cache(maxsize=512)
def _html_with_slot(choice_key: tuple, prefix: str) -> str:
    banner_id, creative, placement, reason, segment_id, category_id = choice_key
    choice = Choice(banner_id, creative, placement, reason, segment_id, category_id, _SLOT)
    context = {"choice": choice, "creative": creative, "placement": placement}
    return get_template(TEMPLATE).render(context)


def _html(choice: Choice) -> str:
    """The template rendered for ``choice``: once per process for each creative and reason
    (the template's output depends on nothing else), the decision's uuid put in its slot;
    rendered each time with DEBUG (templates reload) or a choice with extras. Per-view cost
    of a cached page's banner hole (issue 15)."""
    if settings.DEBUG or choice.extra:
        context = {"choice": choice, "creative": choice.creative, "placement": choice.placement}
        return get_template(TEMPLATE).render(context)
    key = (
        choice.banner_id,
        choice.creative,
        choice.placement,
        choice.reason,
        choice.segment_id,
        choice.category_id,
    )
    # str.replace drops the SafeString mark: the slot is 32 hex digits, the uuid too, so the
    # result is exactly as safe as the template's escaped output
    html = _html_with_slot(key, get_script_prefix()).replace(_SLOT, choice.decision_uuid)
    return mark_safe(html)  # noqa: S308


@lru_cache(maxsize=64)
def _no_banner_html(prefix: str) -> str:
    return get_template(TEMPLATE).render({"choice": None})


def _render(*, placement, user, visitor, category_ids, banners=None, segments=None, here="") -> str:
    choice = banner_choose(
        placement=placement,
        user=user,
        visitor=visitor,
        category_ids=category_ids,
        banners=banners,
        segments=segments,
        here=here,
    )
    if choice is None:
        if settings.DEBUG:
            return get_template(TEMPLATE).render({"choice": None})
        return _no_banner_html(get_script_prefix())
    banner_decision_record(choice=choice, user=user, visitor=visitor)
    return _html(choice)


def banner_html_for_keyless(placement: str, category_ids: tuple, banners=None) -> str:
    """The banner for an anonymous visitor without an id, chosen and recorded now (a new
    decision, the variant drawn for this view): what the tag renders for such a visitor.
    ``banners``: the placement's active banners as the cached page holds them (see
    ``banner_choose``)."""
    return _render(
        placement=placement,
        user=None,
        visitor="",
        category_ids=tuple(category_ids),
        banners=banners,
    )


class _KeylessBanner:
    """``banner_html_for_keyless(placement, category_ids, banners)`` prepared for a cached
    page's copy, whose every hit calls it with the same arguments: the banners' targeting is
    worked out once here; per call only the schedule (against now), the variant (drawn at
    random, weighted, as ``banner_choose`` draws it for a visitor without an id), a new
    decision uuid (a random uuid4, from the variant's ``os.urandom`` call) and its time remain.
    Each call records its decision exactly as ``banner_decision_record`` does (the same row,
    deferred into the hit's one round trip) and returns what the template renders for it.
    Outside ``deferred_redis_writes``, or with DEBUG, it calls ``banner_html_for_keyless``
    itself."""

    def __init__(self, placement: str, category_ids: tuple, banners):
        self.args = (placement, tuple(category_ids), banners)
        self._shown = {}  # (variant id, script prefix) -> _show()
        browsing = set(category_ids)
        self.candidates = []  # (banner, reason, category id, total weight), in priority order
        for banner in banners:
            reason = targeting(
                banner, signed_in=False, enabled=True, segment_ids=frozenset(), browsing=browsing
            )
            if reason is not None:
                reason, _segment_id, category_id = reason
                total = sum(v.weight for v in banner.variants)
                self.candidates.append((banner, reason, category_id, total))

    def __call__(self) -> str:
        if settings.DEBUG or not deferring():
            return banner_html_for_keyless(*self.args)
        now = timezone.now()
        found = next((c for c in self.candidates if in_schedule(c[0], now)), None)
        if found is None:
            return _no_banner_html(get_script_prefix())
        banner, reason, category_id, total = found
        drawn = os.urandom(24)  # one system call: 8 bytes for the variant, 16 for the uuid
        creative = variant_at(banner, int.from_bytes(drawn[:8], "big") % total)
        prefix = get_script_prefix()
        shown = self._shown.get((creative.variant_id, prefix))
        if shown is None:
            shown = self._show(banner, creative, reason, category_id, prefix)
            self._shown[creative.variant_id, prefix] = shown
        row, html = shown
        decision_uuid = _uuid4_hex(drawn[8:])
        row = row.replace(_SLOT, decision_uuid).replace(_WHEN, now.isoformat())
        defer_redis_write("RPUSH", queue_key(), row)
        # the slot and the uuid are 32 hex digits: as safe as the template's escaped output
        # (SafeString: mark_safe's own result for a str, without its lazy-argument wrapper)
        return SafeString(html.replace(_SLOT, decision_uuid))

    def _show(self, banner, creative, reason, category_id, prefix) -> tuple[str, str]:
        """(the decision row's JSON, the banner's HTML), both with ``_SLOT`` for the decision's
        uuid and the row with ``_WHEN`` for its time: what ``banner_decision_record`` and
        ``_html`` make for this creative, but for those two values."""
        choice = Choice(banner.id, creative, self.args[0], reason, None, category_id)
        row = decision_row(
            choice=choice, user=None, visitor="", decision_uuid=_SLOT, chosen_at=_WHEN
        )
        key = (banner.id, creative, choice.placement, reason, None, category_id)
        return json.dumps(row), _html_with_slot(key, prefix)


def _keyless_prepare(placement: str, category_ids: tuple, banners=None):
    """How ``shop.pagecache`` prepares this renderer for a copy (``_KeylessBanner``)."""
    if banners is None:
        return functools.partial(banner_html_for_keyless, placement, category_ids, banners)
    return _KeylessBanner(placement, category_ids, banners)


banner_html_for_keyless.prepare = _keyless_prepare


def banner_html_for_shopper(
    placement: str, user_id: int, category_ids: tuple, banners, segments=None
) -> str:
    """The banner for the signed-in shopper ``user_id``, chosen and recorded now (a new
    decision, their segments read now): what the tag renders for them. ``banners``: the
    placement's active banners as the cached page holds them (banner edits bump its version);
    ``segments``: their cached segments entry when the caller read it (see ``banner_choose``)."""
    from django.contrib.auth import get_user_model

    return _render(
        placement=placement,
        user=get_user_model()(pk=user_id),
        visitor="",
        category_ids=tuple(category_ids),
        banners=banners,
        segments=segments,
    )


@register.simple_tag(takes_context=True)
def banner(context, placement):
    request = context.get("request")
    if request is None:
        return ""
    user = getattr(request, "user", None)
    visitor = ""
    if not (user is not None and user.is_authenticated):
        # No session is made for a banner (shop.lazy): a visitor without an id is uncounted.
        visitor = existing_anonymous_id(request)
    # Category and product pages put the category chain in "breadcrumbs": what is browsed now.
    category_ids = tuple(node.id for node in context.get("breadcrumbs") or ())
    if visitor:  # anonymous: what this session browsed lately counts too, not only this page
        from ..selectors import visitor_recent_categories

        category_ids = visitor_recent_categories(visitor, current=category_ids)
    from shop.pagecache import STATE, hole

    signed_in = user is not None and user.is_authenticated
    # a call to action never leads back to this page (the cached copies are per URL too)
    here = request.get_full_path()
    if signed_in and getattr(request, STATE, None) is not None:
        # a page that shop.signed may keep chooses and records the banner again on each hit
        banners = tuple(banners_for_page(active_banners(placement), here))
        html = banner_html_for_shopper(placement, user.pk, category_ids, banners)
        args = (placement, user.pk, category_ids, banners)
        return mark_safe(hole(request, SHOPPER_RENDERER, args, html))  # noqa: S308
    if visitor or signed_in:
        return _render(
            placement=placement,
            user=user,
            visitor=visitor,
            category_ids=category_ids,
            here=here,
        )

    # A cached page keeps the active banners with it (banner edits bump its version), so a hit
    # chooses among them without reading them again.
    banners = tuple(banners_for_page(active_banners(placement), here))
    html = banner_html_for_keyless(placement, category_ids, banners)
    args = (placement, category_ids, banners)
    # the placeholder is our own HTML comment; the banner is our own autoescaped template
    return mark_safe(hole(request, KEYLESS_RENDERER, args, html))  # noqa: S308
