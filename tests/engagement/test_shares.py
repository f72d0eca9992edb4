from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from personalization.models import Event
from shop.models import Order
from social.engagement import services
from social.engagement.models import ReferralAttribution, ShareLink, ShareVisit
from tests.factories import (
    ProductFactory,
    ProductImageFactory,
    ShippingMethodFactory,
    UserFactory,
    checkout_post,
)


def share_url(product, channel):
    return reverse("engagement:share", args=["product", product.pk, channel])


def checkout(client, product, *, email="buyer@example.test"):
    shipping = ShippingMethodFactory()
    client.post(reverse("shop:cart_add"), {"variant": product.variants.get().pk, "quantity": 1})
    return checkout_post(
        client,
        {
            "email": email,
            "full_name": "Bo Buyer",
            "line1": "Main St 1",
            "city": "Berlin",
            "postcode": "10115",
            "country": "DE",
            "shipping_method": shipping.pk,
            "card_number": "4242424242424242",
            "card_expiry": "12/35",
            "card_cvc": "123",
        },
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "channel, host",
    [
        ("facebook", "www.facebook.com"),
        ("x", "twitter.com"),
        ("linkedin", "www.linkedin.com"),
        ("pinterest", "www.pinterest.com"),
        ("whatsapp", "wa.me"),
    ],
)
def test_share_goes_through_a_tracked_link_to_the_network(client, settings, channel, host):
    settings.SITE_URL = "https://agora.example"
    sharer, product = UserFactory(), ProductFactory(name="Trail Runner")
    ProductImageFactory(product=product)
    client.force_login(sharer)

    response = client.post(share_url(product, channel))

    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert target.netloc == host
    link = ShareLink.objects.get(sharer=sharer, channel=channel)
    tracked = f"https://agora.example/r/{link.code}/"
    assert tracked in "".join(v for vs in parse_qs(target.query).values() for v in vs)
    event = Event.objects.get(kind="share", user=sharer)
    assert event.product == product
    assert event.attributes["channel"] == channel
    assert event.attributes["code"] == link.code
    if channel == "pinterest":
        assert parse_qs(target.query)["media"][0].startswith("https://agora.example/media/")


@pytest.mark.django_db
def test_email_share_opens_a_mail_with_the_tracked_link(client):
    client.force_login(UserFactory())
    product = ProductFactory()
    response = client.post(share_url(product, "email"))
    assert response.status_code == 302
    assert response["Location"].startswith("mailto:?subject=")
    assert ShareLink.objects.get().code in response["Location"]


@pytest.mark.django_db
def test_copy_link_without_js_shows_the_link_and_with_js_returns_json(client):
    client.force_login(UserFactory())
    product = ProductFactory(name="Desk Lamp")
    page = client.post(share_url(product, "copy"))
    link = ShareLink.objects.get()
    assert page.status_code == 200
    assert f"/r/{link.code}/" in page.content.decode()

    data = client.post(share_url(product, "copy"), HTTP_ACCEPT="application/json").json()
    assert data["url"].endswith(f"/r/{link.code}/")  # the same code for the same channel
    assert data["title"] == "Desk Lamp"
    assert ShareLink.objects.get().shares == 2
    assert Event.objects.filter(kind="share").count() == 2


@pytest.mark.django_db
def test_anonymous_visitors_can_share_and_keep_their_code(client):
    product = ProductFactory()
    first = client.post(share_url(product, "native"), HTTP_ACCEPT="application/json").json()
    second = client.post(share_url(product, "native"), HTTP_ACCEPT="application/json").json()
    assert first["code"] == second["code"]
    link = ShareLink.objects.get()
    assert link.sharer is None and link.anon_id
    assert Event.objects.filter(kind="share", session_key=link.anon_id).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, status, message",
    [
        (["product", 123456, "facebook"], 404, "does not exist"),
        (["product", 1, "myspace"], 400, "Unknown share channel"),
        (["nope", 1, "facebook"], 404, "cannot be liked or shared"),
    ],
)
def test_bad_share_requests_are_clear_4xx(client, args, status, message):
    ProductFactory()
    response = client.post(reverse("engagement:share", args=args))
    assert response.status_code == status
    body = response.content.decode()
    assert message in body or "not available" in body
    assert ShareLink.objects.count() == 0


@pytest.mark.django_db
def test_hidden_product_cannot_be_shared(client):
    product = ProductFactory(is_active=False)
    response = client.post(share_url(product, "x"), HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json() == {"error": "That product is not available."}


@pytest.mark.django_db
def test_visit_and_order_through_a_share_are_attributed_to_sharer_and_channel(client):
    sharer, product = UserFactory(), ProductFactory(stock=5)
    link = services.share_record(obj=product, channel="whatsapp", user=sharer)
    friend = client  # a different browser, not signed in

    response = friend.get(reverse("engagement:referral", args=[link.code]))
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url()
    assert ShareVisit.objects.filter(link=link).count() == 1

    response = checkout(friend, product)
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get()
    attribution = ReferralAttribution.objects.get(order=order)
    assert attribution.sharer == sharer
    assert attribution.channel == "whatsapp"
    assert attribution.link == link
    assert order.events.filter(kind="referral").exists()


@pytest.mark.django_db
def test_orders_without_a_referral_or_after_the_window_are_not_attributed(client, settings):
    product = ProductFactory(stock=5)
    checkout(client, product)
    assert ReferralAttribution.objects.count() == 0

    link = services.share_record(obj=product, channel="x", user=UserFactory())
    client.get(reverse("engagement:referral", args=[link.code]))
    session = client.session
    session["engagement_referral"]["at"] = (timezone.now() - timedelta(days=31)).isoformat()
    session.save()
    checkout(client, product)
    assert Order.objects.count() == 2
    assert ReferralAttribution.objects.count() == 0


@pytest.mark.django_db
def test_sharers_buying_through_their_own_link_are_not_attributed(client):
    sharer, product = UserFactory(), ProductFactory(stock=5)
    link = services.share_record(obj=product, channel="facebook", user=sharer)
    client.force_login(sharer)
    assert client.get(reverse("engagement:referral", args=[link.code])).status_code == 302
    placed = checkout(client, product, email=sharer.email)
    assert placed.status_code == 302, "the order must be placed"
    assert Order.objects.filter(user=sharer).count() == 1
    assert ShareVisit.objects.count() == 0
    assert ReferralAttribution.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["forged-code-123", "short", "x" * 40, "bad code!"])
def test_forged_referral_code_is_a_clear_404_and_not_remembered(client, code):
    ProductFactory()
    response = client.get(f"/r/{code}/")
    assert response.status_code == 404
    assert "This share link is not valid" in response.content.decode()
    assert "engagement_referral" not in client.session
    assert ShareVisit.objects.count() == 0


@pytest.mark.django_db
def test_share_link_to_a_product_hidden_since_is_a_404(client):
    product = ProductFactory()
    link = services.share_record(obj=product, channel="x", user=UserFactory())
    product.is_active = False
    product.save()
    response = client.get(link.get_absolute_url())
    assert response.status_code == 404
    assert "not available" in response.content.decode()


@pytest.mark.django_db
def test_attribute_order_is_idempotent(client, rf):
    sharer, product = UserFactory(), ProductFactory(stock=5)
    link = services.share_record(obj=product, channel="linkedin", user=sharer)
    client.get(link.get_absolute_url())
    checkout(client, product)
    order = Order.objects.get()
    request = rf.get("/")
    request.session = client.session
    again = services.attribute_order(order=order, request=request)
    assert again == ReferralAttribution.objects.get()
    assert order.events.filter(kind="referral").count() == 1


@pytest.mark.django_db
def test_links_shared_signed_out_become_the_shoppers_at_sign_in(client):
    """Share signed out, sign in: the code already out there now credits the shopper."""
    from tests.factories import PASSWORD

    product, shopper = ProductFactory(stock=5), UserFactory()
    ProductFactory()  # another shopper's share of the same item must not be touched
    other = services.share_record(obj=product, channel="x", anon_id="someone-else")
    own = services.share_record(obj=product, channel="copy", user=shopper)
    shared = client.post(share_url(product, "copy"), HTTP_ACCEPT="application/json").json()
    anon_x = client.post(share_url(product, "x"), HTTP_ACCEPT="application/json").json()

    response = client.post(reverse("account_login"), {"login": shopper.email, "password": PASSWORD})
    assert response.status_code == 302

    claimed = ShareLink.objects.get(code=shared["code"])
    assert claimed.sharer == shopper and claimed.code != own.code  # both codes keep working
    assert ShareLink.objects.get(code=anon_x["code"]).sharer == shopper
    assert ShareLink.objects.get(pk=other.pk).sharer is None
    # sharing again signed in reuses a link of the shopper's, no new code
    again = client.post(share_url(product, "x"), HTTP_ACCEPT="application/json").json()
    assert again["code"] == anon_x["code"]
    assert Event.objects.filter(kind="share", user=shopper).count() == 4  # merged at sign-in
    client.logout()

    friend = Client()  # a fresh browser follows the link shared while signed out
    friend.get(reverse("engagement:referral", args=[shared["code"]]))
    assert checkout(friend, product).status_code == 302
    attribution = ReferralAttribution.objects.get(order=Order.objects.get())
    assert attribution.sharer == shopper and attribution.channel == "copy"


@pytest.mark.django_db
def test_orders_attributed_before_the_claim_join_the_shopper(client, rf):
    product, shopper = ProductFactory(stock=5), UserFactory()
    link = services.share_record(obj=product, channel="email", anon_id="visitor-1")
    client.get(reverse("engagement:referral", args=[link.code]))
    checkout(client, product)
    assert ReferralAttribution.objects.get().sharer is None

    assert services.share_links_claim(anon_id="visitor-1", user=shopper) == 1
    assert services.share_links_claim(anon_id="", user=shopper) == 0

    assert ReferralAttribution.objects.get().sharer == shopper
