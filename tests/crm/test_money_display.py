"""Money reads the same everywhere staff look: a newcomer saw "€12345.00" on the customer 360
while the dashboard said "€12,345.00". One helper (``shop.money.money``, the ``money`` filter,
``money_field`` for admin columns) formats every amount."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from personalization.loyalty import services as loyalty
from shop.models import Order
from shop.money import money
from tests.crm.helpers import staff
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

#: an amount of a thousand or more without its thousands separator ("12345.00", "€1200.00")
UNSEPARATED = re.compile(r"(?<![\d,.])\d{4,}\.\d{2}(?!\d)")


@pytest.mark.parametrize(
    "value,shown",
    [
        (Decimal("12345"), "€12,345.00"),
        (Decimal("1234567.891"), "€1,234,567.89"),
        ("0.5", "€0.50"),
        (7, "€7.00"),
        (Decimal("-5"), "−€5.00"),
        (None, ""),
    ],
)
def test_money_has_one_format(value, shown):
    assert money(value) == shown


def _text(html: str) -> str:
    """What a reader sees: no tags, no attribute values (inputs hold plain decimals)."""
    return re.sub(r"<[^>]*>", " ", html)


def test_every_staff_page_with_a_big_amount_separates_its_thousands(client, rich):
    helper = staff()
    piano = ProductFactory(name="Grand Piano", price=Decimal("12345.00"), stock=100)
    user = rich(helper=helper, product=piano)
    loyalty.loyalty_refresh()
    order = Order.objects.filter(user=user).first()
    client.force_login(helper)
    pages = {
        "customer 360": reverse("admin:crm_customer_change", args=[user.pk]),
        "customers": reverse("admin:crm_customer_changelist"),
        "orders": reverse("admin:shop_order_changelist"),
        "order": reverse("admin:shop_order_change", args=[order.pk]),
        "loyalty": reverse("admin:loyalty_loyaltystatus_changelist"),
        "profiles": reverse("admin:personalization_preferenceprofile_changelist"),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        text = _text(response.content.decode())
        assert "€12,345.00" in text, name
        assert UNSEPARATED.findall(text) == [], name
