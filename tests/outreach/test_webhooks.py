"""The email provider's bounce and complaint webhooks, end to end through django-anymail.

Payloads are Postmark's documented webhook formats (postmarkapp.com/developer/webhooks), posted
to the wired URL with HTTP basic auth, as the provider would; what must come out is a row in
the suppression list (hard bounces and complaints kept apart), and nothing without the secret.
"""

import base64
import json

import pytest
from django.urls import reverse

from personalization.outreach import planning, receivers, sending
from personalization.outreach.models import (
    Campaign,
    MarketingConsentRecord,
    OutreachMessage,
    Subscriber,
    Suppression,
)

from .conftest import campaign, opted_in, segment_of

pytestmark = pytest.mark.django_db

SECRET = "postmark:s3cret-hook"
URL = "/anymail/postmark/tracking/"


@pytest.fixture
def secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    return SECRET


def _auth(credentials: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def _bounce(email: str, kind: str = "HardBounce", type_code: int = 1) -> dict:
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": type_code,
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "Tag": "campaign",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "shop@agora.test",
        "BouncedAt": "2026-12-01T03:33:54.9070259Z",
        "DumpAvailable": False,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": "Picked for you",
    }


def _complaint(email: str) -> dict:
    return {
        **_bounce(email),
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
    }


def _post(client, payload, credentials=SECRET):
    return client.post(
        URL, data=json.dumps(payload), content_type="application/json", **_auth(credentials)
    )


def test_the_webhook_url_is_wired():
    assert reverse("outreach:anymail:postmark_tracking_webhook") == URL


def test_provider_hard_bounce_posted_with_the_secret_suppresses_the_address(client, secret):
    (shopper,) = opted_in(email="Bounce.Me@Example.com")
    assert not Suppression.objects.exists()
    response = _post(client, _bounce("Bounce.Me@Example.com"))
    assert response.status_code == 200
    row = Suppression.objects.get()
    assert (row.email, row.reason, row.source) == (
        "bounce.me@example.com",
        Suppression.Reason.HARD_BOUNCE,
        Suppression.Source.WEBHOOK,
    )
    assert "550 5.1.1" in row.detail or "unable to deliver" in row.detail
    # A bounce stops mail but is not the shopper's choice: their consent stands.
    assert Subscriber.objects.get(user=shopper).marketing_opt_in


def test_provider_complaint_suppresses_apart_and_records_the_opt_out(client, secret):
    (shopper,) = opted_in(email="angry@example.com")
    assert _post(client, _complaint("angry@example.com")).status_code == 200
    row = Suppression.objects.get()
    assert (row.email, row.reason) == ("angry@example.com", Suppression.Reason.COMPLAINT)
    assert not Subscriber.objects.get(user=shopper).marketing_opt_in
    latest = MarketingConsentRecord.objects.filter(user=shopper).first()
    assert (latest.action, latest.source) == ("revoked", "complaint")
    # A later hard bounce for the same address is a row of its own.
    assert _post(client, _bounce("angry@example.com")).status_code == 200
    assert set(Suppression.objects.values_list("reason", flat=True)) == {
        "complaint",
        "hard_bounce",
    }


def test_provider_soft_bounce_suppresses_nothing(client, secret):
    opted_in(email="busy@example.com")
    response = _post(client, _bounce("busy@example.com", kind="SoftBounce", type_code=4096))
    assert response.status_code == 200
    assert not Suppression.objects.exists()
    # The same payload as a hard bounce does suppress: the test can fail.
    assert _post(client, _bounce("busy@example.com")).status_code == 200
    assert Suppression.objects.count() == 1


@pytest.mark.parametrize("credentials", ["postmark:wrong", ""])
def test_wrong_or_missing_secret_is_refused_and_changes_nothing(client, secret, credentials):
    opted_in(email="victim@example.com")
    headers = _auth(credentials) if credentials else {}
    response = client.post(
        URL,
        data=json.dumps(_bounce("victim@example.com")),
        content_type="application/json",
        **headers,
    )
    assert 400 <= response.status_code < 500
    assert not Suppression.objects.exists()
    assert _post(client, _bounce("victim@example.com")).status_code == 200  # the right one works
    assert Suppression.objects.count() == 1


def test_without_a_configured_secret_posts_are_ignored(client, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}
    opted_in(email="victim@example.com")
    with pytest.warns(Warning):  # anymail's own warning about an open webhook
        response = client.post(
            URL, data=json.dumps(_bounce("victim@example.com")), content_type="application/json"
        )
    assert response.status_code == 200
    assert not Suppression.objects.exists()
    assert receivers.check_webhook_secret() == [], "plain SMTP has no provider webhooks"
    settings.OUTREACH_EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    assert [c.id for c in receivers.check_webhook_secret()] == ["outreach.W001"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    assert receivers.check_webhook_secret() == []


def test_a_suppressed_address_gets_no_more_campaign_mail(client, secret, sink, budget):
    shopper, other = opted_in(2)
    c = campaign([segment_of([shopper, other])], picks=0)
    Campaign.objects.filter(pk=c.pk).update(status=Campaign.Status.SCHEDULED)
    assert planning.campaign_plan(campaign_id=c.pk) == 2
    assert _post(client, _bounce(shopper.email)).status_code == 200
    assert sending.outbox_send_due() == {"sent": 1, "dropped": 1}
    assert OutreachMessage.objects.get(user=shopper).rule == "suppressed"
    assert [m["To"] for m in sink.messages()] == [other.email]
