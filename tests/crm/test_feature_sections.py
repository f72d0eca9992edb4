"""With loyalty and outreach installed: the tier and coupons, the emails sent, opened and held
back with the reason, their timeline rows and the campaign panel. Skipped (with the reason)
on a branch without those apps."""

from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from tests.crm.helpers import staff
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (
            apps.is_installed("personalization.loyalty")
            and apps.is_installed("personalization.outreach")
        ),
        reason="personalization.loyalty and personalization.outreach are not both installed",
    ),
]


def test_360_and_dashboard_show_loyalty_and_outreach(client):
    from personalization.loyalty.models import Coupon, LoyaltyStatus, Tier
    from personalization.outreach.models import Campaign, OutreachMessage

    user = UserFactory()
    tier = Tier.objects.create(slug="crm-gold", name="CRM Gold", position=90)
    LoyaltyStatus.objects.create(user=user, tier=tier)
    Coupon.objects.create(
        code="CRMTEST1",
        owner=user,
        reason="Welcome to CRM Gold",
        benefit_value=5,
        benefit_type=Coupon._meta.get_field("benefit_type").choices[0][0],
        trigger=Coupon._meta.get_field("trigger").choices[0][0],
    )
    winter = Campaign.objects.create(name="Winter sale", html_template="x", text_template="x")
    spring = Campaign.objects.create(name="Spring picks", html_template="x", text_template="x")
    OutreachMessage.objects.create(
        campaign=winter,
        user=user,
        email=user.email,
        message_id="crm-1",
        status="sent",
        sent_at=timezone.now(),
        opened_at=timezone.now(),
    )
    OutreachMessage.objects.create(
        campaign=spring,
        user=user,
        email=user.email,
        message_id="crm-2",
        status="dropped",
        rule="weekly_cap",
        reason="Already 2 emails this week",
    )
    autumn = Campaign.objects.create(name="Autumn boots", html_template="x", text_template="x")
    slot = datetime(2030, 12, 3, 8, 0, tzinfo=UTC)
    OutreachMessage.objects.create(
        campaign=autumn,
        user=user,
        email=user.email,
        message_id="crm-3",
        status="planned",
        slot_at=slot,
        next_attempt_at=slot,
        rule="gap",
        reason="minimum gap of 24 h since the last email",
    )
    client.force_login(staff("Support"))
    html = client.get(reverse("admin:crm_customer_change", args=[user.pk])).content.decode()
    for text in [
        "CRM Gold",
        "CRMTEST1",
        "Welcome to CRM Gold",
        "Winter sale",
        "1 sent",
        "1 held back",
        "Not sent: Already 2 emails this week",
        "Sent within the budget",
        "Deferred to 03 Dec 08:00 UTC: minimum gap of 24 h since the last email",
        "Email held back",
        "Coupon issued",
    ]:
        assert text in html, text
    dashboard = client.get(reverse("admin:crm_dashboard")).content.decode()
    assert "Campaign performance" in dashboard and "Spring picks" in dashboard
    assert "Emails opened, per campaign" in dashboard, "the chart says what its bars count"
    OutreachMessage.objects.update(opened_at=None)
    dashboard = client.get(reverse("admin:crm_dashboard")).content.decode()
    assert "Spring picks" in dashboard and "Emails opened, per campaign" not in dashboard, (
        "no chart of bars that are all zero"
    )
