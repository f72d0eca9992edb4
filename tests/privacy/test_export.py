"""Download my data (issue 13): the archive, its README, ActivityStreams, the signed link."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from privacy import services
from privacy.models import AuditEntry, DataExport
from shop.models import Cart, CartItem
from social.engagement import services as engagement
from social.engagement.models import Like
from social.models import Connection
from social.reviews.models import Review
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = UserFactory(username="wren", first_name="Wren", email="wren@example.test")
    other = UserFactory(username="yara", first_name="Yara")
    engagement.profile_update(user=other, is_public=True, display_name="Yara")
    product = ProductFactory(name="Field glasses")
    engagement.like_add(user=user, obj=product)
    engagement.follow(follower=user, handle=engagement.profile_get_or_create(user=other).handle)
    Review.objects.create(product=product, author=user, rating=4, title="Crisp", body="Bright.")
    cart = Cart.objects.create(user=user)
    CartItem.objects.create(cart=cart, variant=product.variants.get(), quantity=2)
    return user


def request_and_build(client, user) -> DataExport:
    client.force_login(user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("privacy:export_request"))
    assert response.status_code == 302
    return DataExport.objects.get(user=user)


def download(client, export) -> zipfile.ZipFile:
    response = client.get(services.export_download_url(export))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_export_is_a_zip_with_one_documented_json_per_kind(client, shopper):
    export = request_and_build(client, shopper)
    assert export.status == "ready"
    assert export.expires_at - export.finished_at == timedelta(hours=72)
    archive = download(client, export)
    names = set(archive.namelist())
    assert {"README.md", "account.json", "likes.json", "follows.json", "reviews.json"} <= names
    assert {"cart.json", "orders.json", "events.json", "consents.json"} <= names

    account = json.loads(archive.read("account.json"))
    assert account["records"][0]["email"] == "wren@example.test"
    assert set(account["fields"]) >= {"email", "first_name", "date_joined"}
    cart = json.loads(archive.read("cart.json"))
    assert cart["count"] == 1 and cart["records"][0]["quantity"] == 2
    assert cart["records"][0]["product"] == "Field glasses"
    readme = archive.read("README.md").decode()
    for kind in ("account", "likes", "cart", "events"):
        assert f"## {kind}.json" in readme
    assert "- `email`: Your email address." in readme
    # every record key is documented in the README
    for name in names - {"README.md", "decisions.json"}:
        if name.startswith("activitystreams/"):
            continue
        data = json.loads(archive.read(name))
        for record in data["records"]:
            assert set(record) <= set(data["fields"]), (name, set(record) - set(data["fields"]))


def test_likes_follows_reviews_are_also_activitystreams(client, shopper):
    archive = download(client, request_and_build(client, shopper))
    likes = json.loads(archive.read("activitystreams/likes.json"))
    assert likes["@context"] == "https://www.w3.org/ns/activitystreams"
    assert likes["type"] == "OrderedCollection" and likes["totalItems"] == 1
    [like] = likes["orderedItems"]
    assert like["type"] == "Like" and like["object"]["name"] == "Field glasses"
    assert like["object"]["id"].startswith("http") and like["published"].endswith("Z")
    follows = json.loads(archive.read("activitystreams/follows.json"))
    assert follows["orderedItems"][0]["type"] == "Follow"
    assert "/u/" in follows["orderedItems"][0]["object"]
    reviews = json.loads(archive.read("activitystreams/reviews.json"))
    [create] = reviews["orderedItems"]
    assert create["type"] == "Create" and create["object"]["type"] == "Note"
    assert create["object"]["summary"] == "4 out of 5 stars"
    assert Like.objects.filter(user=shopper).count() == 1
    assert Connection.objects.filter(follower=shopper).count() == 1


def test_link_is_shown_emailed_signed_and_audited(client, shopper):
    export = request_and_build(client, shopper)
    page = client.get(reverse("privacy:overview"))
    url = services.export_download_url(export)
    assert url.encode() in page.content
    [email] = [m for m in mail.outbox if "ready" in m.subject]
    assert email.to == ["wren@example.test"] and url in email.body
    download(client, export)
    actions = list(
        AuditEntry.objects.filter(subject=shopper).order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["export_requested", "export_ready", "export_downloaded"]


def test_link_does_not_work_for_others_when_tampered_or_expired(client, shopper):
    export = request_and_build(client, shopper)
    url = services.export_download_url(export)
    intruder = UserFactory(username="ivo")
    client.force_login(intruder)
    assert client.get(url).status_code == 404
    client.force_login(shopper)
    assert client.get(url[:-3] + "xyz/").status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(shopper)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    gone = client.get(url)
    assert gone.status_code == 410
    assert b"expired" in gone.content


def test_double_click_makes_one_export(client, shopper):
    client.force_login(shopper)
    client.post(reverse("privacy:export_request"))  # on_commit not run: still pending
    client.post(reverse("privacy:export_request"))
    assert DataExport.objects.filter(user=shopper).count() == 1


def test_staff_export_from_the_admin_needs_a_reason(admin_client, shopper):
    url = reverse("admin:privacy_dataexport_add")
    assert admin_client.post(url, {"user": shopper.pk, "reason": ""}).status_code == 200
    assert not DataExport.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(url, {"user": shopper.pk, "reason": "Subject access request"})
    assert response.status_code == 302
    export = DataExport.objects.get(user=shopper)
    assert export.status == "ready" and export.requested_by.is_staff
    entry = AuditEntry.objects.get(subject=shopper, action="export_requested")
    assert entry.by_staff and entry.reason == "Subject access request"
    # staff may download it through the signed link
    archive = download(admin_client, export)
    assert "account.json" in archive.namelist()
    assert ContentType.objects.get_for_model(DataExport)
