"""Links in campaign emails: open pixel, tracked clicks (this site only), RFC 8058 one-click
unsubscribe (POST without sign-in; GET changes nothing), the preference centre, sign-up opt-in."""

import re

import pytest
from django.urls import reverse

from personalization.models import Event
from personalization.outreach import links, services
from personalization.outreach.models import (
    MarketingConsentRecord,
    OutreachMessage,
    Subscriber,
    TopicOptOut,
)
from tests.factories import ProductFactory

from .conftest import campaign, opted_in, segment_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(sink, budget):
    """One campaign email that really went through the sink, and its outbox row."""
    product = ProductFactory(name="Trail Shoe")
    (user,) = opted_in(1)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.campaign_schedule(campaign=campaign([segment_of([user])], picks=1))
    (mail,) = sink.messages()
    message = OutreachMessage.objects.get(user=user)
    assert message.status == "sent"
    return mail, message, product


def _path(url):
    return re.sub(r"^https?://[^/]+", "", url)


def test_open_pixel_records_the_first_open_once(client, sent):
    mail, message, _ = sent
    html = mail.get_body(("html",)).get_content()
    pixel = _path(re.search(r'src="([^"]+/email/o/[^"]+)"', html).group(1))
    for _ in range(2):
        response = client.get(pixel)
        assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    message.refresh_from_db()
    assert message.opened_at is not None
    assert Event.objects.filter(user=message.user, kind="email_open").count() == 1
    # A forged pixel still returns an image and records nothing.
    assert client.get("/email/o/999:forged.gif").status_code == 200


def test_product_click_lands_on_the_product_and_is_recorded(client, sent):
    mail, message, product = sent
    html = mail.get_body(("html",)).get_content()
    href = re.search(r'href="([^"]+/email/c/\?t=[^"]+)"', html).group(1).replace("&amp;", "&")
    response = client.get(_path(href))
    assert response.status_code == 302
    assert response["Location"] == product.get_absolute_url()
    message.refresh_from_db()
    assert message.clicked_at is not None and message.opened_at is not None
    click = Event.objects.get(user=message.user, kind="email_click")
    assert click.product_id == product.pk
    assert click.attributes["campaign"] == message.campaign_id


def test_click_redirect_never_leaves_the_site(client, sent):
    _, message, _ = sent
    with pytest.raises(ValueError):
        links.click_url(message.pk, "https://evil.example/phish")
    for target in ["//evil.example/x", "https://evil.example/", "javascript:alert(1)"]:
        assert links.safe_target(target) is None
    # A tampered token is refused with a page, not followed.
    good = _path(links.click_url(message.pk, "/"))
    response = client.get(good[:-3] + "xyz")
    assert response.status_code == 400
    assert b"This link does not work" in response.content
    # A correctly signed token for a foreign URL (made with the key) is still refused.
    from django.core import signing

    token = signing.dumps({"m": message.pk, "u": "https://evil.example/"}, salt=links.CLICK_SALT)
    assert client.get(reverse("outreach:click"), {"t": token}).status_code == 400
    assert not Event.objects.filter(kind="email_click").exists()


def test_one_click_post_unsubscribes_without_sign_in(client, sent):
    mail, message, _ = sent
    url = re.search(r"<(https?://[^>]+/email/unsubscribe/[^>]+)>", mail["List-Unsubscribe"])
    # The mail client's RFC 8058 request: POST with that exact body, no cookies, no CSRF token.
    response = client.post(
        _path(url.group(1)),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not Subscriber.objects.get(user=message.user).marketing_opt_in
    record = MarketingConsentRecord.objects.filter(user=message.user).first()
    assert (record.action, record.source, record.message_id) == (
        "revoked",
        "one_click",
        message.pk,
    )
    # A second POST is harmless.
    assert client.post(_path(url.group(1))).status_code == 200
    assert MarketingConsentRecord.objects.filter(user=message.user, action="revoked").count() == 1


def test_get_on_the_unsubscribe_link_changes_nothing(client, sent):
    _, message, _ = sent
    url = _path(links.unsubscribe_url(message.pk))
    response = client.get(url)
    assert response.status_code == 200
    assert b"Unsubscribe from Agora marketing email?" in response.content
    assert Subscriber.objects.get(user=message.user).marketing_opt_in
    assert not MarketingConsentRecord.objects.filter(action="revoked").exists()
    assert client.get("/email/unsubscribe/1:nope/").status_code == 404
    assert client.post("/email/unsubscribe/1:nope/").status_code == 400


def test_preference_centre_from_the_email_link(client, sent):
    _, message, _ = sent
    url = _path(links.preferences_url(message.pk))
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "opted_in": "on",
            "wanted_topics": ["picks"],
            "frequency": "pause",
            "pause_weeks": "3",
            "time_zone": "Europe/Oslo",
        },
    )
    assert response.status_code == 302
    sub = Subscriber.objects.get(user=message.user)
    assert sub.marketing_opt_in and sub.paused_until is not None and sub.time_zone == "Europe/Oslo"
    assert set(TopicOptOut.objects.filter(user=message.user).values_list("topic", flat=True)) == {
        "offers",
        "news",
    }
    bad = client.post(url, {"opted_in": "on", "frequency": "pause", "time_zone": "Mars/Base"})
    assert bad.status_code == 400
    assert Subscriber.objects.get(user=message.user).time_zone == "Europe/Oslo"  # kept
    client.post(url, {"unsubscribe_all": "1"})
    assert not Subscriber.objects.get(user=message.user).marketing_opt_in


def test_account_preferences_need_sign_in_and_show_history(client, db):
    (user,) = opted_in(1)
    assert client.get(reverse("outreach:preferences")).status_code == 302
    client.force_login(user)
    page = client.get(reverse("outreach:preferences"))
    assert page.status_code == 200
    assert b"Sign-up form" in page.content and b"Opted in" in page.content
    client.post(reverse("outreach:preferences"), {"frequency": "fewer", "wanted_topics": ["news"]})
    sub = Subscriber.objects.get(user=user)
    assert (sub.marketing_opt_in, sub.frequency) == (False, "fewer")
    assert MarketingConsentRecord.objects.filter(user=user).first().source == "account"


def test_sign_up_with_the_opt_in_box_records_consent(client, db):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.test",
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
            "marketing_opt_in": "on",
            "time_zone": "America/New_York",
        },
    )
    assert response.status_code == 302, response.content[:500]
    sub = Subscriber.objects.get(user__email="new@example.test")
    assert sub.marketing_opt_in and sub.time_zone == "America/New_York"
    record = MarketingConsentRecord.objects.get(user=sub.user)
    assert (record.action, record.source) == ("granted", "signup")
    client.logout()
    client.post(
        reverse("account_signup"),
        {
            "email": "no@example.test",
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
        },
    )
    assert not Subscriber.objects.filter(
        user__email="no@example.test", marketing_opt_in=True
    ).exists()
