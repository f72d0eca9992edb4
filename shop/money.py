"""Money as shoppers and staff read it: one format everywhere (storefront, emails, messages,
the admin and the CRM): the currency's symbol, thousands separated, two decimals ("€12,345.00").

Templates use the ``money`` filter (``{% load shop_tags %}``), Python code ``money(value)``,
admin columns and read-only fields ``money_field("total")``. Machine-read values (the API,
JSON-LD, Open Graph, CSV exports) keep the plain decimal."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
CENT = Decimal("0.01")


def money(value, currency=None) -> str:
    """``value`` (a Decimal, int, float or numeric string) as money; "" for None or ""."""
    if value in (None, ""):
        return ""
    amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    symbol = SYMBOLS.get(currency or settings.AGORA_CURRENCY, "")
    sign = "−" if amount < 0 else ""  # a minus sign before the symbol: "−€5.00"
    return f"{sign}{symbol}{abs(amount):,.2f}"


def money_field(name: str, description: str | None = None):
    """An admin method showing the model field ``name`` as money, sorted by the field: put
    it on the ModelAdmin (``total_shown = money_field("total")``) and name it in
    ``list_display``, ``readonly_fields`` and ``fields`` instead of the field."""
    from django.contrib import admin

    @admin.display(description=description or name.replace("_", " "), ordering=name)
    def show(self, obj):
        return money(getattr(obj, name), getattr(obj, "currency", None))

    return show
