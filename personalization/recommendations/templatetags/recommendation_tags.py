"""``{% picked_for_you %}`` and ``{% also_bought product %}``: per-visitor fragments that read
one cache key each once warm (see ``recommendations.selectors``)."""

from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("recommendations/_picks.html", takes_context=True)
def picked_for_you(context, product=None, limit=8, skip=()):
    """The visitor's picks; on a product page, without that product and ``skip`` cards."""
    request = context.get("request")
    user = getattr(request, "user", None)
    picks = selectors.picks_for(user)
    exclude = {getattr(card, "product_id", card) for card in skip or ()}
    if product is not None:
        exclude.add(product.pk)
    return {
        "picks": picks,
        "cards": picks.without(exclude, int(limit)),
        "signed_in": bool(user and user.is_authenticated),
    }


@register.simple_tag
def also_bought_cards(product):
    """The "also bought" cards of ``product`` (use with ``as``), so picks can skip them."""
    return selectors.also_bought(product.pk)


@register.inclusion_tag("recommendations/_also_bought.html")
def also_bought(cards):
    return {"cards": cards}
