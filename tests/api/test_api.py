"""The API as a developer uses it: tokens, problem details, pagination, throttling, a purchase
with a token, staff endpoints, constant queries on lists, docs without a CDN."""

import hashlib
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api.models import PersonalAccessToken
from shop.models import Order
from social.engagement.services import like_add
from tests.api.conftest import bearer, place_order
from tests.factories import ProductFactory, ShippingMethodFactory, UserFactory

pytestmark = pytest.mark.django_db

CHECKOUT = {
    "full_name": "Ana Novak",
    "line1": "1 Market Street",
    "city": "Berlin",
    "postcode": "10115",
    "country": "DE",
    "shipping_method": "standard",
    "card_number": "4242 4242 4242 4242",
    "card_expiry_month": 12,
    "card_expiry_year": 2035,
    "card_cvc": "123",
}


def test_a_token_is_shown_once_stored_hashed_and_stops_working_when_revoked(client):
    user = UserFactory()
    client.force_login(user)
    page = client.post("/account/api-tokens/", {"name": "stock sync", "scopes": ["read"]})
    assert page.status_code == 200
    token = PersonalAccessToken.objects.get(user=user)
    raw = page.context["created"].raw
    assert raw.startswith("agp_") and raw.encode() in page.content
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(PersonalAccessToken.objects.values().get())
    assert raw.encode() not in client.get("/account/api-tokens/").content  # shown once

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/me/").json()["id"] == user.pk
    refused = api.post("/api/v1/likes/", {"target": "product", "object_id": 1})
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"

    revoked = client.post(f"/account/api-tokens/{token.pk}/revoke/")
    assert revoked.status_code == 302
    after = api.get("/api/v1/me/")
    assert after.status_code == 401 and after.json()["code"] == "authentication_failed"


def test_tokens_through_the_api_need_the_session_and_staff_scope_needs_staff(api):
    user = UserFactory()
    api.force_login(user)
    created = api.post("/api/v1/me/tokens/", {"name": "cli", "scopes": ["read", "write"]})
    assert created.status_code == 201
    raw = created.json()["token"]
    staff_scope = api.post("/api/v1/me/tokens/", {"name": "x", "scopes": ["staff"]})
    assert (staff_scope.status_code, staff_scope.json()["code"]) == (403, "token_not_allowed")
    listed = api.get("/api/v1/me/tokens/").json()
    assert [t["name"] for t in listed] == ["cli"] and "token" not in listed[0]

    by_token = APIClient()
    by_token.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    minted = by_token.post("/api/v1/me/tokens/", {"name": "more", "scopes": ["read"]})
    assert (minted.status_code, minted.json()["code"]) == (403, "token_not_allowed")
    assert PersonalAccessToken.objects.count() == 1


def test_a_purchase_with_a_token_uses_the_stores_rules_and_problem_details(api):
    ShippingMethodFactory()
    shopper = UserFactory()
    product = ProductFactory(price=Decimal("30.00"), stock=2)
    variant = product.variants.get()
    bearer(api, shopper, ["read", "write"])

    too_many = api.post("/api/v1/cart/items/", {"variant": variant.pk, "quantity": 3})
    assert too_many.status_code == 409
    assert too_many["Content-Type"] == "application/problem+json"
    body = too_many.json()
    assert body["code"] == "out_of_stock" and body["status"] == 409
    assert body["type"].endswith("/api/problems/out_of_stock")
    assert body["detail"] == f"Only 2 of {variant} left in stock."
    assert body["instance"] == "/api/v1/cart/items/"

    invalid = api.post("/api/v1/cart/items/", {"variant": "x", "quantity": 0})
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid"
    assert sorted(e["pointer"] for e in invalid.json()["errors"]) == ["#/quantity", "#/variant"]

    added = api.post("/api/v1/cart/items/", {"variant": variant.pk, "quantity": 2})
    assert added.status_code == 201 and added.json()["subtotal"] == "60.00"

    declined = api.post("/api/v1/checkout/", {**CHECKOUT, "card_number": "4000000000000002"})
    assert (declined.status_code, declined.json()["code"]) == (402, "payment_declined")
    assert api.get("/api/v1/cart/").json()["count"] == 2  # nothing lost

    placed = api.post("/api/v1/checkout/", CHECKOUT)
    assert placed.status_code == 201, placed.json()
    order = Order.objects.get(number=placed.json()["number"])
    assert order.user == shopper and order.total == Decimal("60.00")
    assert order.email == shopper.email
    variant.refresh_from_db()
    assert variant.stock == 0
    assert [o["number"] for o in api.get("/api/v1/orders/").json()["results"]] == [order.number]
    empty = api.post("/api/v1/checkout/", CHECKOUT)
    assert (empty.status_code, empty.json()["code"]) == (400, "empty_cart")


def test_unknown_paths_and_problem_types_are_json(client):
    missing = client.get("/api/v1/nothing-here/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    types = {p["code"]: p["status"] for p in client.get("/api/problems/").json()}
    assert types["out_of_stock"] == 409 and types["payment_declined"] == 402
    assert types["banned"] == 403 and types["insufficient_scope"] == 403
    assert client.get("/api/problems/out_of_stock").json()["title"] == "Out of stock"


def test_anonymous_callers_are_throttled_with_retry_after(settings, api):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": "3/min", "user": "1000/min"}
    settings.REST_FRAMEWORK = rest
    codes = [api.get("/api/v1/categories/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    last = api.get("/api/v1/categories/")
    assert last.json()["code"] == "throttled" and int(last["Retry-After"]) > 0
    api.force_login(UserFactory())  # a signed-in caller has their own budget
    assert api.get("/api/v1/categories/").status_code == 200


def test_cursor_pagination_walks_every_product_once(api):
    made = {ProductFactory().pk for _ in range(5)}
    seen, url = [], "/api/v1/products/?page_size=2&sort=price"
    while url:
        page = api.get(url).json()
        seen.extend(p["id"] for p in page["results"])
        url = page["next"]
    assert sorted(seen) == sorted(made) and len(seen) == 5
    assert api.get("/api/v1/products/?page_size=2&cursor=bogus").json()["code"] == "not_found"


def test_product_list_shows_ratings_stock_and_the_callers_social_proof(api, settings):
    settings.ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES = 2
    liked, plain = ProductFactory(name="Liked"), ProductFactory(name="Plain", stock=0)
    me = UserFactory()
    like_add(user=me, obj=liked)
    like_add(user=UserFactory(), obj=liked)
    api.force_login(me)
    rows = {p["name"]: p for p in api.get("/api/v1/products/").json()["results"]}
    assert rows["Liked"]["social_proof"]["liked"] is True
    assert rows["Liked"]["social_proof"]["like_count"] == 2
    assert rows["Plain"]["social_proof"] == {
        "like_count": None,
        "liked": False,
        "followed_likers": [],
        "followed_likers_total": 0,
    }
    assert rows["Plain"]["in_stock"] is False and rows["Liked"]["in_stock"] is True
    detail = api.get(f"/api/v1/products/{plain.slug}/").json()
    assert detail["ratings"]["count"] == 0 and len(detail["ratings"]["distribution"]) == 5


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products/",
        "/api/v1/orders/",
        "/api/v1/forums/topics/",
        "/api/v1/staff/customers/",
        "/api/v1/likes/",
    ],
)
def test_list_endpoints_run_the_same_queries_for_3_or_12_rows(url, high_rates):
    from social.forums.models import ForumCategory
    from social.forums.services import topic_create

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_login(admin)
    category = ForumCategory.objects.create(name="General", slug="general")

    def grow(n):
        for _ in range(n):
            product = ProductFactory()
            place_order(admin, product)
            like_add(user=admin, obj=product)
            UserFactory()
            topic_create(user=UserFactory(), category=category, title="A topic", body="Hello all")

    grow(3)
    client.get(url)  # warm the caches (category tree, facets, content types) first
    small = _queries(client, url)
    grow(9)
    big = _queries(client, url)
    assert big == small, f"{url}: {small} queries for 3 rows, {big} for 12"


def test_staff_move_an_order_with_a_staff_token(api, staff_member):
    order = place_order(UserFactory(), ProductFactory())
    bearer(api, staff_member, ["read", "write", "staff"])
    moved = api.post(f"/api/v1/staff/orders/{order.number}/status/", {"status": "shipped"})
    assert moved.status_code == 200 and moved.json()["status"] == "shipped"
    back = api.post(f"/api/v1/staff/orders/{order.number}/status/", {"status": "paid"})
    assert (back.status_code, back.json()["code"]) == (409, "invalid_status_transition")
    customers = api.get("/api/v1/staff/customers/?has_orders=true").json()["results"]
    assert [c["orders_count"] for c in customers] == [1]


def test_docs_are_served_by_the_store_without_a_cdn(client):
    for url in ("/api/docs/", "/api/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        assert (
            b"cdn" not in page.content.lower()
            and b"/static/drf_spectacular_sidecar/" in page.content
        )
        assert b'<html lang="en">' in page.content, "axe html-has-lang (serious)"
    assert b"<style>" not in client.get("/api/docs/").content, "the CSP allows no inline style"


def test_every_operation_has_a_description_and_an_example(client):
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["schemas"]["Problem"]["example"]["code"] == "out_of_stock"
    missing = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            bodies = [
                media
                for code, response in operation["responses"].items()
                if code.startswith("2")
                for media in response.get("content", {}).values()
            ] + list(operation.get("requestBody", {}).get("content", {}).values())
            has_example = any("example" in m or "examples" in m for m in bodies)
            no_body = not bodies  # e.g. 204: the documented problem example is the example
            if not operation.get("description") or not (has_example or no_body):
                missing.append(f"{method.upper()} {path}")
    assert missing == []
