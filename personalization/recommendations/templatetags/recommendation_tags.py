"""``{% picked_for_you %}`` and ``{% also_bought product %}``: per-visitor fragments that read
one cache key each once warm (see ``recommendations.selectors``)."""

from django import template
from django.utils.safestring import mark_safe

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def picked_for_you(context, product=None, limit=8, skip=(), skip_products=()):
    """The visitor's picks; on a product page, without that product, the ``skip`` cards and
    the ``skip_products`` (products the page shows elsewhere), and popular picks of its
    category first.

    The fragment comes from the cache once warm (``selectors.picks_fragment``)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    skip_ids = [getattr(card, "product_id", card) for card in skip or ()]
    skip_ids += [item.pk for item in skip_products or ()]
    html = selectors.picks_fragment(
        user,
        product_id=product.pk if product is not None else None,
        limit=int(limit),
        skip=skip_ids,
        category_id=product.category_id if product is not None else None,
        parent_id=product.category.parent_id if product is not None else None,
    )
    return mark_safe(html)  # noqa: S308 - rendered by our own autoescaped template


@register.simple_tag
def also_bought_cards(product):
    """The "also bought" cards of ``product`` (use with ``as``), so picks can skip them."""
    return selectors.also_bought(product.pk)


@register.inclusion_tag("recommendations/_also_bought.html")
def also_bought(cards):
    return {"cards": cards}
