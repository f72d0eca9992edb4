"""The demo's cart banner promises the free-shipping threshold that checkout applies: a newcomer
walking the demo saw "Free standard shipping over €50" on the cart and "free from €60.00" on
the checkout."""

import io
from decimal import Decimal

import pytest

from personalization.banners.demo import seed
from personalization.banners.models import BannerVariant, Placement
from shop.models import ShippingMethod
from tests.factories import ShippingMethodFactory

pytestmark = pytest.mark.django_db


def cart_headlines():
    return list(
        BannerVariant.objects.filter(banner__placement=Placement.CART).values_list(
            "headline", flat=True
        )
    )


@pytest.mark.parametrize(
    "free_over,expected",
    [(Decimal("60.00"), "Free standard shipping from €60"), (Decimal("59.50"), "from €59.50")],
)
def test_the_cart_banner_quotes_the_lowest_active_free_shipping_threshold(free_over, expected):
    ShippingMethodFactory(free_over=free_over)
    ShippingMethodFactory(code="old", name="Old", free_over=Decimal("20.00"), is_active=False)
    ShippingMethodFactory(code="express", name="Express", free_over=None)
    assert cart_headlines() == [], "no banner before the seed"

    seed(stdout=io.StringIO())

    (headline,) = cart_headlines()
    assert expected in headline


def test_no_free_shipping_means_no_free_shipping_banner():
    ShippingMethodFactory(free_over=None)
    assert not ShippingMethod.objects.filter(free_over__isnull=False).exists()

    seed(stdout=io.StringIO())

    assert cart_headlines() == []
    assert BannerVariant.objects.filter(banner__placement=Placement.HOME_HERO).exists(), (
        "the rest of the demo banners were still seeded"
    )
