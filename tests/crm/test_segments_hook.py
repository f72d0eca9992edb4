"""With the segments app installed: the "CRM tag" rule, the 360 section, the timeline rows and
the dashboard panel. Skipped (with the reason) on a branch without personalization.segments."""

import pytest
from django.apps import apps

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not apps.is_installed("personalization.segments"),
        reason="personalization.segments is not installed on this branch",
    ),
]


def test_crm_tag_rule_compiles_and_evaluates_the_same():
    from crm import services
    from personalization.segments import rules
    from tests.factories import UserFactory

    rule = rules.get_rule("crm_tag")
    assert rule is not None and rule.label == "CRM tag"
    tagged, other = UserFactory(), UserFactory()
    vip = services.tag_get_or_create(name="VIP")
    services.tag_add(customer=tagged, tag=vip)
    params = rule.clean({"tags": ["vip"]})
    from django.contrib.auth import get_user_model

    matched = set(
        get_user_model().objects.filter(rule.compile(params)).values_list("pk", flat=True)
    )
    assert matched == {tagged.pk}
    for user in (tagged, other):
        ctx = rules.Context.for_user(user)
        assert rule.evaluate(ctx, params) == (user.pk in matched)
    with pytest.raises(rules.RuleError):
        rule.clean({"tags": ["no-such-tag"]})
    assert "VIP" not in rule.explain(params)  # internal tag names never reach the shopper


def test_360_shows_segments_with_entry_dates_and_the_timeline_rows(client):
    from django.urls import reverse

    from personalization.segments.models import Segment, SegmentMembership, SegmentMembershipHistory
    from tests.crm.helpers import staff
    from tests.factories import UserFactory

    user = UserFactory()
    segment = Segment.objects.create(name="CRM test segment", slug="crm-test-segment", rules={})
    SegmentMembership.objects.create(segment=segment, user=user)
    SegmentMembershipHistory.objects.create(segment=segment, user=user, action="entered")
    client.force_login(staff())
    html = client.get(reverse("admin:crm_customer_change", args=[user.pk])).content.decode()
    assert "CRM test segment" in html and "since" in html
    assert "Entered a segment" in html
    dash = client.get(reverse("admin:crm_dashboard")).content.decode()
    assert "Segment sizes over time" in dash
