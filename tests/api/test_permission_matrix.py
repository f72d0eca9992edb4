"""Who may call what: one row per endpoint and method, checked for every role.

Every path and method under /api/v1/ must have a row here: a new endpoint without a decision
fails ``test_every_endpoint_has_a_decision``. Decisions (see api/permissions.py):

- ``anyone``: every caller; ``public``: anyone reads, a signed-in account writes;
- ``shopper``: a signed-in account; ``session``: a signed-in account through the site's session
  only (tokens are refused); ``staff``: a staff account whose role has the view's permissions.

Token callers also need the scope: read for GET, write otherwise, staff for staff endpoints.
A request "passes" when the answer is not one of the refusal codes below; what happens next
(404 for a made-up id, 400 for an empty body) is the endpoint's business and tested elsewhere.
"""

import pytest
from drf_spectacular.generators import EndpointEnumerator
from rest_framework.test import APIClient

from tests.api.conftest import bearer, place_order
from tests.factories import UserFactory

MATRIX = {
    ("GET", "/api/v1/"): "anyone",
    ("GET", "/api/v1/products/"): "public",
    ("GET", "/api/v1/products/{slug}/"): "public",
    ("GET", "/api/v1/categories/"): "public",
    ("GET", "/api/v1/shipping-methods/"): "public",
    ("GET", "/api/v1/cart/"): "shopper",
    ("POST", "/api/v1/cart/items/"): "shopper",
    ("PATCH", "/api/v1/cart/items/{item_id}/"): "shopper",
    ("DELETE", "/api/v1/cart/items/{item_id}/"): "shopper",
    ("POST", "/api/v1/checkout/"): "shopper",
    ("GET", "/api/v1/orders/"): "shopper",
    ("GET", "/api/v1/orders/{number}/"): "shopper",
    ("POST", "/api/v1/staff/orders/{number}/status/"): "staff",
    ("GET", "/api/v1/staff/customers/"): "staff",
    ("GET", "/api/v1/staff/customers/{pk}/"): "staff",
    ("GET", "/api/v1/products/{slug}/reviews/"): "public",
    ("POST", "/api/v1/products/{slug}/reviews/"): "public",
    ("GET", "/api/v1/products/{slug}/questions/"): "public",
    ("POST", "/api/v1/products/{slug}/questions/"): "public",
    ("PATCH", "/api/v1/reviews/{review_id}/"): "shopper",
    ("DELETE", "/api/v1/reviews/{review_id}/"): "shopper",
    ("POST", "/api/v1/reviews/{review_id}/helpful/"): "shopper",
    ("POST", "/api/v1/reviews/{review_id}/report/"): "shopper",
    ("POST", "/api/v1/questions/{question_id}/answers/"): "shopper",
    ("GET", "/api/v1/forums/categories/"): "public",
    ("GET", "/api/v1/forums/topics/"): "public",
    ("POST", "/api/v1/forums/topics/"): "public",
    ("GET", "/api/v1/forums/topics/{topic_id}/"): "public",
    ("GET", "/api/v1/forums/topics/{topic_id}/posts/"): "public",
    ("POST", "/api/v1/forums/topics/{topic_id}/posts/"): "public",
    ("PUT", "/api/v1/forums/topics/{topic_id}/subscription/"): "shopper",
    ("DELETE", "/api/v1/forums/topics/{topic_id}/subscription/"): "shopper",
    ("PATCH", "/api/v1/forums/posts/{post_id}/"): "shopper",
    ("DELETE", "/api/v1/forums/posts/{post_id}/"): "shopper",
    ("GET", "/api/v1/forums/subscriptions/"): "shopper",
    ("GET", "/api/v1/likes/"): "shopper",
    ("POST", "/api/v1/likes/"): "shopper",
    ("GET", "/api/v1/likes/{target}/{object_id}/"): "public",
    ("DELETE", "/api/v1/likes/{target}/{object_id}/"): "public",
    ("POST", "/api/v1/shares/"): "anyone",
    ("GET", "/api/v1/profiles/{handle}/"): "public",
    ("PUT", "/api/v1/profiles/{handle}/follow/"): "shopper",
    ("DELETE", "/api/v1/profiles/{handle}/follow/"): "shopper",
    ("GET", "/api/v1/me/"): "shopper",
    ("GET", "/api/v1/me/profile/"): "shopper",
    ("PATCH", "/api/v1/me/profile/"): "shopper",
    ("GET", "/api/v1/me/consents/"): "shopper",
    ("GET", "/api/v1/me/consents/history/"): "shopper",
    ("POST", "/api/v1/me/consents/{category}/"): "shopper",
    ("DELETE", "/api/v1/me/consents/{category}/"): "shopper",
    ("GET", "/api/v1/me/interests/"): "shopper",
    ("PUT", "/api/v1/me/interests/{dimension}/{value}/"): "shopper",
    ("DELETE", "/api/v1/me/interests/{dimension}/{value}/"): "shopper",
    ("GET", "/api/v1/me/personalization/"): "shopper",
    ("PUT", "/api/v1/me/personalization/"): "shopper",
    ("GET", "/api/v1/me/tokens/"): "shopper",
    ("POST", "/api/v1/me/tokens/"): "session",
    ("DELETE", "/api/v1/me/tokens/{token_id}/"): "shopper",
    # wave 3: the features that landed
    ("GET", "/api/v1/staff/segments/"): "staff",
    ("POST", "/api/v1/staff/segments/"): "staff",
    ("POST", "/api/v1/staff/segments/preview/"): "staff",
    ("GET", "/api/v1/staff/segments/{pk}/"): "staff",
    ("PATCH", "/api/v1/staff/segments/{pk}/"): "staff",
    ("DELETE", "/api/v1/staff/segments/{pk}/"): "staff",
    ("GET", "/api/v1/staff/segments/{pk}/members/"): "staff",
    ("GET", "/api/v1/staff/banners/"): "staff",
    ("POST", "/api/v1/staff/banners/"): "staff",
    ("GET", "/api/v1/staff/banners/{pk}/"): "staff",
    ("PATCH", "/api/v1/staff/banners/{pk}/"): "staff",
    ("DELETE", "/api/v1/staff/banners/{pk}/"): "staff",
    ("GET", "/api/v1/me/banners/{placement}/"): "shopper",
    ("GET", "/api/v1/me/recommendations/"): "shopper",
    ("GET", "/api/v1/me/rewards/"): "shopper",
    ("GET", "/api/v1/me/coupons/"): "shopper",
    ("GET", "/api/v1/staff/coupons/"): "staff",
    ("POST", "/api/v1/staff/coupons/"): "staff",
    ("POST", "/api/v1/staff/campaigns/"): "staff",
    ("PATCH", "/api/v1/staff/campaigns/{pk}/"): "staff",
    ("POST", "/api/v1/staff/banners/{pk}/variants/{variant_id}/image/"): "staff",
    ("GET", "/api/v1/staff/campaigns/"): "staff",
    ("GET", "/api/v1/staff/campaigns/{pk}/"): "staff",
    ("POST", "/api/v1/staff/campaigns/{pk}/schedule/"): "staff",
    ("POST", "/api/v1/staff/campaigns/{pk}/cancel/"): "staff",
    ("GET", "/api/v1/me/email-preferences/"): "shopper",
    ("PATCH", "/api/v1/me/email-preferences/"): "shopper",
    ("GET", "/api/v1/me/data-exports/"): "shopper",
    ("POST", "/api/v1/me/data-exports/"): "shopper",
    ("GET", "/api/v1/me/erasure/"): "shopper",
    ("POST", "/api/v1/me/erasure/"): "session",
    ("DELETE", "/api/v1/me/erasure/"): "shopper",
    ("GET", "/api/v1/staff/customers/{customer_pk}/notes/"): "staff",
    ("POST", "/api/v1/staff/customers/{customer_pk}/notes/"): "staff",
    ("GET", "/api/v1/staff/notes/{pk}/"): "staff",
    ("PATCH", "/api/v1/staff/notes/{pk}/"): "staff",
    ("DELETE", "/api/v1/staff/notes/{pk}/"): "staff",
    ("GET", "/api/v1/staff/customers/{customer_pk}/tasks/"): "staff",
    ("POST", "/api/v1/staff/customers/{customer_pk}/tasks/"): "staff",
    ("GET", "/api/v1/staff/tasks/{pk}/"): "staff",
    ("PATCH", "/api/v1/staff/tasks/{pk}/"): "staff",
    ("DELETE", "/api/v1/staff/tasks/{pk}/"): "staff",
}

PARAMS = {
    "slug": "no-such-product",
    "item_id": "999999",
    "number": "NO-SUCH-ORDER",
    "pk": "999999",
    "review_id": "999999",
    "question_id": "999999",
    "topic_id": "999999",
    "post_id": "999999",
    "target": "product",
    "object_id": "999999",
    "handle": "nobody-here",
    "category": "age",
    "dimension": "brand",
    "value": "nothing",
    "token_id": "999999",
    "placement": "home_hero",
    "customer_pk": "999999",
    "variant_id": "999999",
}
REFUSED = {
    "not_authenticated",
    "authentication_failed",
    "permission_denied",
    "insufficient_scope",
    "token_not_allowed",
}

# role -> (signed in?, staff with the role's permissions?, token scopes or None for a session)
ROLES = {
    "anonymous": (False, False, None),
    "shopper": (True, False, None),
    "staff without role": (True, False, None),
    "staff with role": (True, True, None),
    "token read": (True, False, {"read"}),
    "token write": (True, False, {"write"}),
    "token read+write": (True, False, {"read", "write"}),
    "staff token read+write": (True, True, {"read", "write"}),
    "staff token read+write+staff": (True, True, {"read", "write", "staff"}),
}


def expected_to_pass(decision: str, role: str, method: str) -> bool:
    signed_in, staff_role, scopes = ROLES[role]
    if scopes is not None:
        needed = {"read"} if method == "GET" else {"write"}
        if decision == "staff":
            needed.add("staff")
        if not needed <= scopes or decision == "session":
            return False
    if decision == "anyone":
        return True
    if decision == "public":
        return method == "GET" or signed_in
    if decision in {"shopper", "session"}:
        return signed_in
    if decision == "staff":
        return staff_role
    raise AssertionError(f"unknown decision {decision}")


def endpoints() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, _, method, _ in EndpointEnumerator().get_api_endpoints()
        if path.startswith("/api/v1/")
    }


def test_every_endpoint_has_a_decision():
    found = endpoints()
    missing = sorted(found - set(MATRIX))
    stale = sorted(set(MATRIX) - found)
    assert not missing, f"Add these endpoints to MATRIX with a decision: {missing}"
    assert not stale, f"MATRIX lists endpoints that no longer exist: {stale}"
    assert len(found) >= 55


def _client_for(role, *, shopper, staff_plain, staff_member) -> APIClient:
    client = APIClient()
    signed_in, staff_role, scopes = ROLES[role]
    if not signed_in:
        return client
    user = staff_member if staff_role else (staff_plain if role.startswith("staff") else shopper)
    if scopes is None:
        client.force_login(user)
        return client
    return bearer(client, user, scopes)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLES))
def test_permission_matrix(role, high_rates, feature_staff, staff_member):
    shopper = UserFactory(username="matrix-shopper")
    staff_plain = UserFactory(username="matrix-staff", is_staff=True)
    client = _client_for(role, shopper=shopper, staff_plain=staff_plain, staff_member=staff_member)
    if ROLES[role][0]:  # the precondition: the caller really is signed in
        me = client.get("/api/v1/me/")
        scopes = ROLES[role][2]
        assert me.status_code == (403 if scopes is not None and "read" not in scopes else 200)
    wrong = []
    for (method, path), decision in sorted(MATRIX.items()):
        url = path.format(**PARAMS)
        response = getattr(client, method.lower())(url, {}, format="json")
        assert response.status_code < 500, (method, url, response.content[:300])
        code = response.json().get("code") if response.status_code >= 400 else None
        passed = code not in REFUSED
        if passed != expected_to_pass(decision, role, method):
            wrong.append((method, path, decision, response.status_code, code))
    assert not wrong, f"{role}: unexpected access decisions {wrong}"


@pytest.mark.django_db
def test_a_revoked_or_unknown_token_is_refused_everywhere(api, high_rates):
    user = UserFactory()
    bearer(api, user, ["read"])
    assert api.get("/api/v1/me/").status_code == 200
    from api.models import PersonalAccessToken

    PersonalAccessToken.objects.update(revoked_at="2020-01-01T00:00:00Z")
    response = api.get("/api/v1/products/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")
    api.credentials(HTTP_AUTHORIZATION="Bearer agp_made-up")
    assert api.get("/api/v1/").json()["code"] == "authentication_failed"


@pytest.mark.django_db
def test_another_shopper_cannot_reach_my_things(api, high_rates):
    """Ownership (object level): another shopper's order, review, post, cart line and token
    look like missing ones (404), or are refused as the pages refuse them."""
    from decimal import Decimal

    from api.services import token_create
    from shop import cart as carts
    from shop.models import Cart
    from social.forums.models import ForumCategory
    from social.forums.services import topic_create
    from social.reviews.services import review_create
    from tests.factories import ProductFactory

    me, other = UserFactory(), UserFactory()
    product = ProductFactory(price=Decimal("10.00"))
    review = review_create(user=me, product=product, rating=5, title="Good", body="Really good.")
    topic = topic_create(
        user=me,
        category=ForumCategory.objects.create(name="General", slug="general"),
        title="Hello there",
        body="First post here.",
    )
    order = place_order(me, product)
    assert order.user == me
    cart = Cart.objects.get(user=me)
    item = carts.cart_add(cart=cart, variant_id=product.variants.get().pk, quantity=1)
    token = token_create(user=me, name="mine", scopes=["read"]).token
    api.force_login(other)

    post = topic.posts.get()
    checks = [
        ("patch", f"/api/v1/reviews/{review.pk}/", {"rating": 1, "title": "x", "body": "y" * 20}),
        ("delete", f"/api/v1/reviews/{review.pk}/", None),
        ("patch", f"/api/v1/forums/posts/{post.pk}/", {"body": "Changed by another"}),
        ("delete", f"/api/v1/forums/posts/{post.pk}/", None),
        ("patch", f"/api/v1/cart/items/{item.pk}/", {"quantity": 2}),
        ("delete", f"/api/v1/cart/items/{item.pk}/", None),
        ("delete", f"/api/v1/me/tokens/{token.pk}/", None),
        ("get", f"/api/v1/orders/{order.number}/", None),
    ]
    expected = [
        (403, "not_allowed"),
        (403, "not_allowed"),
        (403, "not_allowed"),
        (403, "not_allowed"),
        (404, "product_unavailable"),
        (404, "product_unavailable"),
        (404, "token_not_found"),
        (404, "not_found"),
    ]
    answers = []
    for method, url, body in checks:
        response = getattr(api, method)(url, body, format="json")
        answers.append((response.status_code, response.json()["code"]))
    assert answers == expected
    review.refresh_from_db()
    assert review.title == "Good"
    item.refresh_from_db()
    assert item.quantity == 1
    token.refresh_from_db()
    assert token.revoked_at is None
    assert topic.posts.get().is_deleted is False
