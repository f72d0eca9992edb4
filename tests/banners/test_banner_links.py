"""A banner's call to action leads somewhere else: a newcomer walking the demo found "Better
picks, your way" on "Your interests" sending them to "Your interests", and the category banner
sending a category page to itself."""

import io
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from personalization.banners.demo import seed
from personalization.banners.models import Banner, BannerVariant, Placement
from personalization.banners.selectors import (
    active_banners,
    banners_cache_forget,
    banners_for_page,
    leads_here,
)
from tests.factories import CategoryFactory, ProductFactory, ShippingMethodFactory, UserFactory


@pytest.mark.parametrize(
    "cta,here,back",
    [
        ("/account/interests/", "/account/interests/", True),
        ("/account/interests", "/account/interests/", True),
        ("/account/interests/#switch", "/account/interests/", True),
        ("/c/bags/", "/c/bags/?page=2", True),
        ("/c/bags/?sort=rating", "/c/bags/?sort=rating&page=2", True),
        ("?sort=rating", "/c/bags/?sort=rating", True),
        ("/c/bags/?sort=rating", "/c/bags/", False),
        ("/account/interests/", "/account/orders/", False),
        ("/", "/products/", False),
        ("https://elsewhere.example/", "/", False),
    ],
)
def test_a_link_leads_back_only_to_the_same_path_with_nothing_new_in_its_query(cta, here, back):
    assert leads_here(cta, here) is back


def _pages(root, child):
    """Every page each placement is shown on, as the demo has them."""
    return {
        Placement.HOME_HERO: [reverse("shop:home")],
        Placement.CART: [reverse("shop:cart")],
        Placement.ACCOUNT: [reverse("shop:my_orders"), reverse("personalization:interests")],
        Placement.CATEGORY: [
            reverse("shop:category", args=[root.slug]),
            reverse("shop:category", args=[child.slug]),
            reverse("shop:product_list"),
        ],
    }


def _same_page(cta: str, page: str) -> bool:
    target, here = urlsplit(cta), urlsplit(page)
    return target.path.rstrip("/") == here.path.rstrip("/") and set(parse_qsl(target.query)) <= set(
        parse_qsl(here.query)
    )


@pytest.mark.django_db
def test_no_demo_banner_sends_a_shopper_back_to_the_page_it_is_shown_on(client):
    ShippingMethodFactory()
    root = CategoryFactory(name="Clothing")
    child = CategoryFactory(name="Jackets", parent=root)
    ProductFactory(category=child)
    seed(stdout=io.StringIO())
    variants = list(BannerVariant.objects.select_related("banner"))
    client.force_login(UserFactory())

    shown = set()
    for placement, pages in _pages(root, child).items():
        for page in pages:
            html = client.get(page).content.decode()
            for variant in variants:
                if variant.banner.placement == placement and escape(variant.headline) in html:
                    shown.add(variant.banner.name)
                    assert not _same_page(variant.cta_url, page), (variant.headline, page)
    # every placement's banner was seen somewhere, so the check above was not vacuous
    assert {"Welcome", "Free shipping reminder", "Clothing week", "Tell us more"} <= shown


@pytest.mark.django_db
def test_a_banner_with_one_variant_pointing_here_shows_its_other_variant_or_gives_way(client):
    banner = Banner.objects.create(name="Ours", placement=Placement.ACCOUNT, priority=5)
    here = BannerVariant.objects.create(
        banner=banner, name="A", headline="Back here", cta_url="/account/orders/"
    )
    elsewhere = BannerVariant.objects.create(
        banner=banner, name="B", headline="Go on", cta_url="/account/interests/"
    )
    banners_cache_forget()

    (cached,) = banners_for_page(active_banners(Placement.ACCOUNT), "/account/orders/")
    assert [v.variant_id for v in cached.variants] == [elsewhere.pk]
    (other,) = banners_for_page(active_banners(Placement.ACCOUNT), "/account/interests/")
    assert [v.variant_id for v in other.variants] == [here.pk]

    client.force_login(UserFactory())
    for _ in range(3):  # whichever variant the shopper is assigned
        html = client.get(reverse("shop:my_orders")).content.decode()
        assert "Go on" in html and "Back here" not in html
    banner.variants.filter(pk=elsewhere.pk).delete()
    banners_cache_forget()
    html = client.get(reverse("shop:my_orders")).content.decode()
    assert "Back here" not in html and "promo-banner" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "placement,cta,ok",
    [
        (Placement.CART, "/cart/", False),
        (Placement.HOME_HERO, "/", False),
        (Placement.HOME_HERO, "/products/", True),
        (Placement.ACCOUNT, "/account/interests/", True),  # fine on the other account pages
    ],
)
def test_staff_cannot_save_a_call_to_action_that_leads_back_to_its_only_page(placement, cta, ok):
    banner = Banner.objects.create(name="B", placement=placement)
    variant = BannerVariant(banner=banner, headline="Hello", cta_url=cta)
    if ok:
        variant.full_clean()
    else:
        with pytest.raises(ValidationError, match="leads back"):
            variant.full_clean()
