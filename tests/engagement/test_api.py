import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from social.engagement.models import Like, ShareLink
from tests.factories import ProductFactory, UserFactory


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.django_db
def test_like_list_and_unlike_through_the_api(api, settings):
    settings.ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES = 1
    shopper, product = UserFactory(), ProductFactory(name="Mug")
    api.force_authenticate(shopper)
    body = {"target": "product", "object_id": product.pk}

    first = api.post(reverse("api-engagement-likes"), body, format="json")
    again = api.post(reverse("api-engagement-likes"), body, format="json")

    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == {"target": "product", "object_id": product.pk, "liked": True, "count": 1}
    listed = api.get(reverse("api-engagement-likes")).json()
    assert [(item["title"], item["target"]) for item in listed] == [("Mug", "product")]
    gone = api.delete(reverse("api-engagement-like", args=["product", product.pk]))
    assert gone.json()["liked"] is False
    assert Like.objects.count() == 0


@pytest.mark.django_db
def test_api_bad_input_is_a_clear_4xx(api):
    api.force_authenticate(UserFactory())
    hidden = ProductFactory(is_active=False)
    url = reverse("api-engagement-likes")
    assert api.post(url, {"target": "product", "object_id": 0}, format="json").status_code == 400
    response = api.post(url, {"target": "product", "object_id": hidden.pk}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"] == "That product is not available."
    assert response.json()["code"] == "item_not_found"  # RFC 9457 problem details (issue 14)
    response = api.post(url, {"target": "ghost", "object_id": 1}, format="json")
    assert response.status_code == 404


@pytest.mark.django_db
def test_api_likes_need_sign_in_and_shares_give_a_tracked_link(api):
    product = ProductFactory()
    body = {"target": "product", "object_id": product.pk}
    assert api.post(reverse("api-engagement-likes"), body, format="json").status_code == 401
    response = api.post(reverse("api-engagement-shares"), {**body, "channel": "x"}, format="json")
    assert response.status_code == 201
    assert response.json()["url"].endswith(f"/r/{ShareLink.objects.get().code}/")
    bad = api.post(reverse("api-engagement-shares"), {**body, "channel": "fax"}, format="json")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_openapi_schema_includes_engagement(client):
    response = client.get(reverse("api-schema"))
    assert response.status_code == 200
    assert b"/api/v1/likes/" in response.content
