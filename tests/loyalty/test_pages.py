"""My rewards, the admin (staff issue a coupon by hand), the order pages' shipping address."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from personalization.loyalty.models import Coupon
from personalization.loyalty.services import coupons_issue_earned
from shop.models import Order
from tests.factories import CategoryFactory, UserFactory, checkout_post
from tests.loyalty.conftest import add_to_cart, buy
from tests.loyalty_factories import EarnRuleFactory, TierFactory, make_coupon

pytestmark = pytest.mark.django_db


def test_my_rewards_shows_tier_what_the_next_needs_and_each_coupon_with_why(
    client, shipping, django_assert_max_num_queries
):
    TierFactory(name="Bronze", slug="bronze", position=1, min_spend=0, min_orders=0)
    TierFactory(name="Silver", position=2, min_spend=Decimal("100"), min_orders=2)
    EarnRuleFactory(
        trigger="nth_order",
        threshold=1,
        benefit_type="fixed",
        benefit_value=Decimal("5"),
        min_subtotal=Decimal("30"),
    )
    shopper = UserFactory()
    first_at = timezone.now() - timedelta(days=40)
    buy(user=shopper, shipping=shipping, price="53.10", placed_at=first_at)  # 58.00 paid
    coupons_issue_earned()
    client.force_login(shopper)
    # the first page also fills the shared caches (category bar, footer): the page's own
    # queries are counted in test_my_rewards_queries_do_not_grow_with_coupons_or_tiers
    with django_assert_max_num_queries(9):
        page = client.get(reverse("loyalty:rewards"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "You are a Bronze member" in html
    # the first order counts until 365 days after its date (the shopper has no zone of their
    # own, so the store's)
    by = first_at.astimezone(ZoneInfo("Europe/Berlin")).date() + timedelta(days=365)
    assert f"€42.00 more and 1 more order\n    by {by.day} {by:%B %Y}" in html
    coupon = Coupon.objects.get(owner=shopper)
    assert coupon.code in html
    assert "€5.00 off, on orders of €30.00 or more" in html
    assert "Why you have it: Because this is your 1st order." in html
    until = coupon.valid_until.astimezone(ZoneInfo("Europe/Berlin"))  # the page's zone, as above
    assert f"Valid until {until:%-d %B %Y}" in html


def test_my_rewards_queries_do_not_grow_with_coupons_or_tiers(
    client, shipping, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from personalization.loyalty.services import coupon_revoke
    from personalization.outreach.services import preferences_update

    def queries():
        with CaptureQueriesContext(connection) as captured:
            page = client.get(reverse("loyalty:rewards"))
        assert page.status_code == 200
        return len(captured.captured_queries), page.content.decode()

    TierFactory(name="Bronze", slug="bronze", position=1, min_spend=0, min_orders=0)
    TierFactory(name="Silver", position=2, min_spend=Decimal("100"), min_orders=2)
    shopper = UserFactory()
    preferences_update(
        user=shopper,
        opted_in=False,
        muted_topics=set(),
        frequency="normal",
        time_zone="Pacific/Auckland",
    )
    buy(user=shopper, shipping=shipping, price="30.00")
    own = {"owner": shopper, "kind": "single", "max_uses": 1}
    make_coupon(code="FIRST", **own)
    client.force_login(shopper)
    client.get(reverse("loyalty:rewards"))  # fill the shared caches (category bar, footer)
    one, html = queries()
    assert "FIRST" in html

    TierFactory(name="Gold", slug="gold", position=3, min_spend=Decimal("750"))
    TierFactory(name="Platinum", slug="platinum", position=4, min_spend=Decimal("2000"))
    kitchen = CategoryFactory(name="Kitchen")
    for n, extra in enumerate(
        [
            {"benefit_type": "free_shipping", "valid_until": None},
            {"benefit_type": "fixed", "benefit_value": Decimal("5"), "combinable": True},
            {"conditions": [{"type": "categories", "ids": [kitchen.pk], "names": ["Kitchen"]}]},
            {"conditions": [{"type": "tier", "slug": "gold"}, {"type": "first_order"}]},
            {"conditions": [{"type": "min_subtotal", "amount": "40"}]},
            {},
            {},
        ]
    ):
        make_coupon(code=f"MORE{n}", **own, **extra)
    coupon_revoke(coupon_id=Coupon.objects.get(code="MORE5").pk, reason="a test")
    Coupon.objects.filter(code="MORE6").update(uses=1)
    eight, html = queries()
    assert html.count('class="coupon-code"') == 8 and "Platinum" in html
    # the user, their figures with tier and own time zone, the tiers, the coupons, the cart
    assert one == eight == 5
    with django_assert_max_num_queries(5):
        client.get(reverse("loyalty:rewards"))


def test_rewards_need_sign_in(client):
    response = client.get(reverse("loyalty:rewards"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_staff_issue_a_coupon_by_hand_in_the_admin(admin_client, admin_user):
    shopper = UserFactory()
    response = admin_client.post(
        reverse("admin:loyalty_coupon_add"),
        {
            "code": "",
            "kind": "single",
            "owner": shopper.pk,
            "reason": "Sorry your parcel was late",
            "benefit_type": "fixed",
            "benefit_value": "7.50",
            "valid_from_0": "2026-01-01",
            "valid_from_1": "00:00:00",
            "valid_until_0": "2099-01-01",
            "valid_until_1": "00:00:00",
            "max_uses": "",
            "max_uses_per_shopper": "1",
            "min_subtotal": "20",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    coupon = Coupon.objects.get(owner=shopper)
    assert coupon.trigger == "staff" and coupon.issued_by == admin_user
    assert coupon.max_uses == 1 and coupon.code.startswith("AG-")
    assert coupon.reason == "Sorry your parcel was late"
    assert coupon.conditions == [{"type": "min_subtotal", "amount": "20.00"}]
    page = admin_client.get(reverse("admin:loyalty_coupon_change", args=[coupon.pk]))
    assert "€7.50 off, on orders of €20.00 or more" in page.content.decode()


def test_a_single_code_without_a_shopper_is_refused_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:loyalty_coupon_add"),
        {
            "kind": "single",
            "reason": "x",
            "benefit_type": "percentage",
            "benefit_value": "10",
            "valid_from_0": "2026-01-01",
            "valid_from_1": "00:00:00",
            "max_uses_per_shopper": "1",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "A single code belongs to one shopper" in response.content.decode()
    assert not Coupon.objects.exists()


def test_bulk_generation_from_the_admin(admin_client):
    model = make_coupon(code="MODEL")
    response = admin_client.post(
        reverse("admin:loyalty_coupon_changelist"),
        {"action": "generate_bulk", "_selected_action": [model.pk]},
    )
    assert response.status_code == 302
    bulk = Coupon.objects.filter(kind="bulk")
    assert bulk.count() == 100
    assert len(set(bulk.values_list("code", flat=True))) == 100
    assert set(bulk.values_list("max_uses", flat=True)) == {1}


def test_order_detail_and_confirmation_show_the_shipping_address(client, checkout_data):
    add_to_cart(client)
    response = checkout_post(client, {**checkout_data, "line2": "Flat 3"})
    assert response.status_code == 302
    order = Order.objects.get()
    for url in [response["Location"], order.get_absolute_url()]:
        html = client.get(url).content.decode()
        assert "Shipping to" in html
        assert "1 Market Street<br>Flat 3<br>10115 Berlin<br>Germany" in html


def test_the_orders_api_gives_address_shipping_and_discounts(client, shipping):
    shopper = UserFactory()
    make_coupon(code="API10")
    order = buy(user=shopper, shipping=shipping, price="30.00", codes=["API10"])
    client.force_login(shopper)
    data = client.get(f"/api/orders/{order.number}/").json()
    assert data["shipping_method"] == "standard"
    assert data["shipping_address"]["city"] == "Berlin"
    assert data["discounts"] == [
        {"code": "API10", "label": "10% off", "amount": "3.00", "on_shipping": False}
    ]
    assert data["discount_total"] == "3.00"


def test_the_shipped_email_says_where_it_goes(shipping, django_capture_on_commit_callbacks):
    from django.core import mail

    from shop.services import order_set_status

    order = buy(user=UserFactory(), shipping=shipping)
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=Order.Status.SHIPPED)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Shipping to:\nAna Novak\n1 Road\n10115 Berlin, Germany\n(Standard)" in message.body
    assert "10115 Berlin, Germany (Standard)" in message.alternatives[0][0]


def test_cart_and_checkout_queries_do_not_grow_with_lines_or_codes(client, shipping):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    make_coupon(code="C1", combinable=True)
    make_coupon(code="C2", combinable=True, benefit_type="free_shipping")
    add_to_cart(client)
    for code in ("C1", "C2"):
        assert client.post(reverse("shop:cart_code_add"), {"code": code}).status_code == 302
    client.get(reverse("shop:cart"))  # fill the shared caches (category bar, footer)
    one_line = {url: queries(reverse(url)) for url in ("shop:cart", "shop:checkout")}
    assert one_line["shop:checkout"] <= 16
    for _ in range(5):
        add_to_cart(client)
    six_lines = {url: queries(reverse(url)) for url in ("shop:cart", "shop:checkout")}
    assert six_lines == one_line


def test_the_admin_and_the_staff_service_issue_the_same_coupon(admin_client, admin_user):
    """The admin's add page goes through ``coupon_issue_staff`` (the API's path): the same input
    makes the same coupon, and the same refusal."""
    from personalization.loyalty.services import coupon_issue_staff

    shopper = UserFactory()
    fields = {
        "kind": "single",
        "owner": shopper.pk,
        "reason": "Sorry your parcel was late",
        "benefit_type": "fixed",
        "benefit_value": "7.50",
        "max_uses_per_shopper": "1",
        "min_subtotal": "20",
        "code": "",
    }
    response = admin_client.post(
        reverse("admin:loyalty_coupon_add"),
        {
            **fields,
            "valid_from_0": "2026-01-01",
            "valid_from_1": "00:00:00",
            "valid_until_0": "2099-01-01",
            "valid_until_1": "00:00:00",
            "redemptions-TOTAL_FORMS": "0",
            "redemptions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    by_admin = Coupon.objects.get(owner=shopper)
    by_service = coupon_issue_staff(
        data={**fields, "valid_from": "2026-01-01T00:00:00", "valid_until": "2099-01-01T00:00:00"},
        issued_by=admin_user,
    )
    compared = [
        "kind", "owner_id", "reason", "benefit_type", "benefit_value", "max_uses",
        "max_uses_per_shopper", "conditions", "trigger", "issued_by_id", "combinable",
        "valid_from", "valid_until",
    ]  # fmt: skip
    assert [getattr(by_admin, f) for f in compared] == [getattr(by_service, f) for f in compared]
    assert by_admin.code != by_service.code and by_admin.code.startswith("AG-")
