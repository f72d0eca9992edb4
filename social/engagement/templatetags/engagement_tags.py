"""Template tags for likes, social proof, share bars, Open Graph tags and "Follow us".

Per-item data is loaded in batches and memoised on the request: ``{% engagement_prefetch %}``
(in ``_list_prefetch.html``) loads it for every likeable item list in the context, so each card
costs no query. Items not prefetched are loaded one by one (still correct, but not constant).
"""

from django import template
from django.conf import settings
from django.core.paginator import Page
from django.db.models import Model, QuerySet

from .. import likeable, selectors, sharing
from ..app_settings import site_url

register = template.Library()


def _likeable_items(value) -> list[Model]:
    """The likeable model instances in a context value, without running unexpected queries:
    a QuerySet is only read when it is already sliced (a page) or evaluated."""
    if isinstance(value, Page):
        value = value.object_list
    if isinstance(value, QuerySet):
        if likeable.for_object(value.model()) is None:
            return []
        if value._result_cache is None and not value.query.is_sliced:
            return []
        return list(value)
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, Model) and likeable.for_object(item)]
    if isinstance(value, Model) and likeable.for_object(value):
        return [value]
    return []


@register.simple_tag(takes_context=True)
def engagement_prefetch(context, *values):
    """Load likes and social proof for the given items (or, with no argument, for every
    likeable item or page of items in the context) in a constant number of queries."""
    request = context.get("request")
    if request is None:
        return ""
    if not values:
        values = [value for key, value in context.flatten().items() if not key.startswith("_")]
    items = [item for value in values for item in _likeable_items(value)]
    if items:
        selectors.like_summaries_for_request(request, items)
    return ""


like_prefetch = register.simple_tag(engagement_prefetch, takes_context=True, name="like_prefetch")


@register.filter
def gather(items, attribute: str) -> list:
    """Every item's ``attribute`` (a list) joined into one list, so items nested in a page's
    items load with them: ``{% like_prefetch posts posts|gather:"products" %}``."""
    gathered = []
    for item in items or ():
        gathered.extend(getattr(item, attribute, None) or ())
    return gathered


def _summary(context, obj) -> selectors.LikeSummary:
    request = context.get("request")
    if request is None:
        return selectors.LikeSummary()
    return selectors.like_summary_for_request(request, obj)


@register.inclusion_tag("engagement/_like_button.html", takes_context=True)
def like_button(context, obj, compact=False):
    """A like toggle for any registered item: a POST form that htmx swaps in place."""
    entry = likeable.for_object(obj)
    request = context.get("request")
    return {
        "obj": obj,
        "key": entry.key if entry and entry.can_like else None,
        "summary": _summary(context, obj),
        "next": context.get("like_next") or (request.get_full_path() if request else "/"),
        "compact": compact,
        "csrf_token": context.get("csrf_token"),
        "user": context.get("user"),
    }


@register.inclusion_tag("engagement/_social_proof.html", takes_context=True)
def social_proof(context, obj):
    """ "Liked by Ana and 3 others you follow" from followed shoppers with public likes."""
    return {"summary": _summary(context, obj)}


@register.inclusion_tag("engagement/_share_bar.html", takes_context=True)
def share_bar(context, obj):
    """The share bar for any registered, shareable item (products, forum topics)."""
    entry = likeable.for_object(obj)
    return {
        "obj": obj,
        "key": entry.key if entry and entry.shareable else None,
        "channels": sharing.BAR_CHANNELS,
        "network_channels": sharing.NETWORK_CHANNELS,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("engagement/_follow_us.html")
def follow_us():
    return {"accounts": selectors.store_social_accounts()}


@register.inclusion_tag("engagement/_open_graph.html")
def product_open_graph(product, images=()):
    """Open Graph and Twitter card tags, so a shared product link renders as a rich card."""
    image = images[0] if images else None
    return {
        "product": product,
        "url": site_url() + product.get_absolute_url(),
        "image_url": (site_url() + image.image.url) if image else "",
        "image_alt": (image.alt or product.name) if image else "",
        "currency": settings.AGORA_CURRENCY,
    }
