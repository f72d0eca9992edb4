"""The demo seed's first campaign arrives in the mail sink's Maildir (issue 17, item 19)."""

import mailbox

import pytest

from personalization.outreach import demo, planning
from personalization.outreach.models import Campaign, OutreachMessage
from tests.factories import ProductFactory

from .conftest import campaign, opted_in, segment_of

pytestmark = [pytest.mark.django_db]


def test_demo_campaign_is_delivered_into_the_sinks_maildir(budget, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    ProductFactory(name="Trail Shoe")
    members = opted_in(2)
    c = campaign([segment_of(members)])
    c.status = Campaign.Status.SCHEDULED  # as the demo's campaigns are
    c.save(update_fields=["status"])
    assert planning.campaign_plan(campaign_id=c.pk) == 2, "both members were planned"

    counts = demo.send_to_mail_sink(campaign_id=c.pk)

    arrived = list(mailbox.Maildir(str(tmp_path / "mail"), create=False))
    assert counts.get("sent") == 2
    assert sorted(m["To"] for m in arrived) == sorted(u.email for u in members)
    assert set(OutreachMessage.objects.filter(campaign=c).values_list("status", flat=True)) == {
        "sent"
    }
    assert demo.send_to_mail_sink(campaign_id=c.pk).get("sent") is None, "nothing sent twice"
    assert len(list(mailbox.Maildir(str(tmp_path / "mail"), create=False))) == 2
