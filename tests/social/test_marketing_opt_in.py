"""The marketing-email opt-in offered on the permission screen: unticked by default, recorded as
outreach consent (with its source) only when ticked, through the real Friendbook sign-in."""

import pytest
from django.contrib.auth import get_user_model

from personalization.outreach.models import MarketingConsentRecord, Subscriber
from social import consent

from .friendbook import Member, local_path
from .test_flow import PERMISSIONS, sign_in, start

pytestmark = pytest.mark.django_db


def _opted_in(email: str) -> bool:
    user = get_user_model().objects.get(email=email)
    return Subscriber.objects.filter(user=user, marketing_opt_in=True).exists()


def test_the_offer_is_shown_unticked(client):
    response = client.get(PERMISSIONS)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="marketing_opt_in"' in page
    tag = page[
        page.index('name="marketing_opt_in"') - 40 : page.index('name="marketing_opt_in"') + 80
    ]
    assert "checked" not in tag
    assert "Offers by email" in page


def test_ticking_it_records_the_opt_in_as_consent(client, fb):
    authorize = start(client, consent.AGE, marketing_opt_in="on")
    back = Member(fb, "ana@friendbook.test").authorize(authorize)
    response = client.get(local_path(back))
    assert response.status_code == 302
    user = get_user_model().objects.get(email="ana@friendbook.test")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert _opted_in("ana@friendbook.test")
    record = MarketingConsentRecord.objects.get(user=user)
    assert (record.action, record.source) == ("granted", "permission_screen")
    assert record.policy_version


def test_leaving_it_unticked_records_nothing(client, fb):
    response = sign_in(client, fb, "ana@friendbook.test", consent.AGE)
    assert response.status_code == 302
    user = get_user_model().objects.get(email="ana@friendbook.test")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not _opted_in("ana@friendbook.test")
    assert not MarketingConsentRecord.objects.filter(user=user).exists()


def test_an_opted_in_shopper_is_not_offered_it_again(client, fb):
    authorize = start(client, marketing_opt_in="on")
    back = Member(fb, "ana@friendbook.test").authorize(authorize)
    assert client.get(local_path(back)).status_code == 302
    assert _opted_in("ana@friendbook.test")
    assert 'name="marketing_opt_in"' not in client.get(PERMISSIONS).content.decode()
