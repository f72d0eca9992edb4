from django import template
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from shop.money import money as format_money

register = template.Library()


@register.filter
def money(value, currency=None):
    """``{{ order.total|money }}``: "€12,345.00" (``shop.money.money``, the one format)."""
    return format_money(value, currency)


@register.simple_tag
def stars(rating):
    """Five stars filled to the nearest half star (a class per step, no inline style).
    Decorative: the number is always given in text or in an aria-label next to it."""
    value = max(0.0, min(5.0, float(rating or 0)))
    step = round(value * 2) * 5  # 0, 5, 10 … 50
    return format_html('<span class="stars stars-{}" aria-hidden="true">★★★★★</span>', step)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(sorted(params.lists()), doseq=True)


@register.simple_tag(takes_context=True)
def product_card_body(context, product):
    """The shared body of a product card, from the fragment cache (``shop.fragments``)."""
    from ..fragments import cards_html

    return mark_safe(cards_html(context.get("request"), [product])[product.pk])  # noqa: S308 (rendered by our template)


@register.simple_tag(takes_context=True)
def product_card_social(context, product):
    """The per-visitor part of a product card (like button, social proof): see
    ``shop.fragments.card_social_html``."""
    from ..fragments import card_social_html

    return mark_safe(card_social_html(context, product))  # noqa: S308 (rendered by our template)
