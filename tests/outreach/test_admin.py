"""Staff: campaign preview for any shopper, test send, scheduling, the decision log."""

import pytest
from django.test import TestCase
from django.urls import reverse

from personalization.outreach.models import (
    Campaign,
    CampaignTestSend,
    OutreachDecision,
    Subscriber,
)
from personalization.recommendations.models import ProductPopularity
from personalization.recommendations.tasks import refresh_recommendation_data
from tests.factories import ProductFactory, UserFactory

from .conftest import campaign, opted_in, segment_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory(is_staff=True, is_superuser=True, email="boss@example.test")
    client.force_login(user)
    return user


def test_preview_for_a_shopper_and_test_send_to_staff(client, staff, sink, budget):
    ProductFactory(name="Trail Shoe")
    # The store's popular list, refreshed by its real task (eager here), feeds the picks.
    refresh_recommendation_data.delay()
    assert ProductPopularity.objects.filter(product__name="Trail Shoe").exists()
    (shopper,) = opted_in(1, first_name="Ines")
    c = campaign([segment_of([shopper])])
    url = reverse("admin:outreach_campaign_preview", args=[c.pk])
    page = client.get(url, {"shopper": shopper.email})
    assert page.status_code == 200
    assert b"Ines, picked for you" in page.content and b"Trail Shoe" in page.content
    # The preview says where the picks came from: the recommender's popular list.
    assert b"Why these products: our most popular products" in page.content
    assert client.get(url, {"shopper": "nobody@example.test"}).status_code == 400

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(url, {"shopper": shopper.pk})
    assert response.status_code == 302
    (mail,) = sink.messages()
    assert mail["To"] == staff.email and mail["Subject"] == "[Test] Ines, picked for you"
    text = mail.get_body(("plain",)).get_content()
    assert "Why these products: our most popular products" in text
    assert not c.messages.exists()  # a test send is not an outbox row
    (test_send,) = CampaignTestSend.objects.filter(campaign=c)
    assert test_send.sent_at is not None  # the claim is spent


def test_test_send_without_a_staff_address_is_refused_with_a_message(client, staff, sink):
    staff.email = ""
    staff.save(update_fields=["email"])
    (shopper,) = opted_in(1)
    c = campaign([segment_of([shopper])])
    url = reverse("admin:outreach_campaign_preview", args=[c.pk])
    response = client.post(url, {"shopper": shopper.pk})
    assert response.status_code == 400
    assert b"no email address to send the test to" in response.content
    assert not CampaignTestSend.objects.exists() and sink.messages() == []


def test_schedule_action_plans_and_the_decision_log_shows_why(client, staff, sink, budget):
    users = opted_in(2)
    seg = segment_of(users)
    first, second = campaign([seg], name="First"), campaign([seg], name="Second")
    changelist = reverse("admin:outreach_campaign_changelist")
    for c in (first, second):
        with TestCase.captureOnCommitCallbacks(execute=True):
            client.post(changelist, {"action": "schedule", "_selected_action": [c.pk]})
    assert Campaign.objects.get(pk=second.pk).status == "planned"
    assert OutreachDecision.objects.filter(campaign=second, outcome="deferred").count() == 2
    log = client.get(reverse("admin:outreach_outreachdecision_changelist"))
    assert log.status_code == 200
    assert b"minimum gap of 24 h since the last email" in log.content
    sub = client.get(reverse("admin:outreach_subscriber_change", args=[users[0].pk]))
    assert sub.status_code == 200 and b"Sign-up form" in sub.content
    assert Subscriber.objects.filter(marketing_opt_in=True).count() == 2
    # A campaign without a segment is refused with a message, not an error page.
    empty = campaign([], name="Empty")
    response = client.post(
        changelist, {"action": "schedule", "_selected_action": [empty.pk]}, follow=True
    )
    assert b"Choose at least one target segment first." in response.content
    assert Campaign.objects.get(pk=empty.pk).status == "draft"


def test_admin_pages_render(client, staff, budget):
    for name in ["campaign", "outreachmessage", "outreachdecision", "subscriber", "suppression"]:
        assert client.get(reverse(f"admin:outreach_{name}_changelist")).status_code == 200
    settings_page = client.get(reverse("admin:outreach_budgetsettings_changelist"), follow=True)
    assert settings_page.status_code == 200 and b"Quiet hours" in settings_page.content
