"""``{% banner "home_hero" %}``: the chosen banner for this page and shopper, with its why link."""

from functools import lru_cache
from uuid import uuid4

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe

from personalization.events import existing_anonymous_id

from ..selectors import Choice, active_banners, banner_choose
from ..services import banner_decision_record

register = template.Library()
TEMPLATE = "banners/_banner.html"
#: Renders the banner again on every hit of a cached page (``shop.pagecache.hole``).
KEYLESS_RENDERER = "personalization.banners.templatetags.banners.banner_html_for_keyless"
#: The same for a signed-in shopper's page kept by ``shop.signed``.
SHOPPER_RENDERER = "personalization.banners.templatetags.banners.banner_html_for_shopper"


#: Stands for the decision's uuid in a banner rendered once per process: 32 hex digits like
#: the uuid (escaped alike), random per process (no creative can hold it).
_SLOT = uuid4().hex


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


def _render(*, placement, user, visitor, category_ids, banners=None, segments=None) -> str:
    choice = banner_choose(
        placement=placement,
        user=user,
        visitor=visitor,
        category_ids=category_ids,
        banners=banners,
        segments=segments,
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
    if signed_in and getattr(request, STATE, None) is not None:
        # a page that shop.signed may keep chooses and records the banner again on each hit
        banners = tuple(active_banners(placement))
        html = banner_html_for_shopper(placement, user.pk, category_ids, banners)
        args = (placement, user.pk, category_ids, banners)
        return mark_safe(hole(request, SHOPPER_RENDERER, args, html))  # noqa: S308
    if visitor or signed_in:
        return _render(placement=placement, user=user, visitor=visitor, category_ids=category_ids)

    # A cached page keeps the active banners with it (banner edits bump its version), so a hit
    # chooses among them without reading them again.
    banners = tuple(active_banners(placement))
    html = banner_html_for_keyless(placement, category_ids, banners)
    args = (placement, category_ids, banners)
    # the placeholder is our own HTML comment; the banner is our own autoescaped template
    return mark_safe(hole(request, KEYLESS_RENDERER, args, html))  # noqa: S308
