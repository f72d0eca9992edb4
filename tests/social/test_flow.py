"""Sign-in through the permission screen against the real Friendbook subprocess (no browser)."""

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import reverse

from social import consent
from social.models import ConsentRecord, SocialProfile
from social.selectors import granted_categories, social_profile

from .friendbook import Member, local_path

pytestmark = pytest.mark.django_db
PERMISSIONS = reverse("social:permissions", args=["friendbook"])


def start(client, *categories, **extra) -> str:
    data = {c: "on" for c in categories} | {"continue": "1"} | extra
    response = client.post(PERMISSIONS, data)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def sign_in(client, fb, email, *categories, untick=(), action="grant"):
    authorize = start(client, *categories)
    back = Member(fb, email).authorize(authorize, untick=untick, action=action)
    return client.get(local_path(back))


def scopes(authorize_url: str) -> set[str]:
    [scope] = parse_qs(urlsplit(authorize_url).query)["scope"]
    return set(scope.split())


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_sign_in_keeps_exactly_the_granted_categories_reduced(client, fb):
    response = sign_in(client, fb, "ana@friendbook.test", consent.AGE, consent.INTERESTS)

    assert response.status_code == 302
    user = get_user_model().objects.get(email="ana@friendbook.test")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert granted_categories(user) == {consent.BASIC, consent.AGE, consent.INTERESTS}
    records = ConsentRecord.objects.filter(user=user)
    assert {(r.category, r.action, r.source, r.provider) for r in records} == {
        (c, "granted", "permission_screen", "friendbook")
        for c in (consent.BASIC, consent.AGE, consent.INTERESTS)
    }
    assert {r.policy_version for r in records} == {consent.policy_version()}
    profile = SocialProfile.objects.get(user=user)
    assert profile.age_band in {"25-34", "35-44"}  # born 1994
    assert profile.birthday_month is None and profile.birthday_day is None
    assert profile.gender == "" and profile.relationship_status == ""
    assert profile.interests == ["Running", "Hiking", "Coffee", "Photography"]
    data = social_profile(user)
    assert data.categories == {consent.BASIC, consent.AGE, consent.INTERESTS}
    # allauth's copy of the claims holds the identity only: no birth date, no interests.
    extra = SocialAccount.objects.get(user=user).extra_data
    flat = str(extra)
    # "1994-05-12", not "1994": a token's iat/exp or a sub may hold those four digits.
    assert "1994-05-12" not in flat and "Running" not in flat and "female" not in flat
    assert "birthdate" not in flat and "interests" not in flat
    assert extra["userinfo"]["email"] == "ana@friendbook.test"


def test_only_the_scopes_of_granted_categories_are_requested(client, fb):
    authorize = start(client, consent.GENDER, consent.FRIENDS)
    assert scopes(authorize) == {"openid", "profile", "email", "gender", "friends"}
    assert scopes(start(client)) == {"openid", "profile", "email"}
    assert scopes(start(client, consent.AGE, consent.BIRTHDAY)) == {
        "openid",
        "profile",
        "email",
        "birthday",
    }


def test_provider_can_withhold_a_category_on_its_own_consent_screen(client, fb):
    response = sign_in(
        client, fb, "ben@friendbook.test", consent.GENDER, consent.RELATIONSHIP, untick=["gender"]
    )
    user = get_user_model().objects.get(email="ben@friendbook.test")
    assert granted_categories(user) == {consent.BASIC, consent.RELATIONSHIP}
    profile = SocialProfile.objects.get(user=user)
    assert profile.gender == "" and profile.relationship_status == "married"
    assert any("did not share: Gender" in m for m in messages_of(response))


def test_denial_at_friendbook_signs_nobody_in(client, fb):
    response = sign_in(client, fb, "chloe@friendbook.test", consent.GENDER, action="cancel")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(email="chloe@friendbook.test").exists()
    assert not ConsentRecord.objects.exists()
    assert any("You cancelled at Friendbook" in m for m in messages_of(response))


def test_cancel_on_the_store_screen_sends_nothing(client, fb):
    response = client.post(PERMISSIONS, {"gender": "on", "cancel": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session
    assert "socialaccount_states" not in client.session
    assert any("Nothing was shared" in m for m in messages_of(response))


def test_tampered_state_is_refused_cleanly(client, fb):
    start(client, consent.GENDER)  # a genuine state exists in the session
    callback = reverse("openid_connect_callback", args=["friendbook"])
    response = client.get(callback, {"state": "forged-state", "code": "whatever"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in client.session
    assert any("did not complete" in m for m in messages_of(response))


def test_replayed_callback_is_refused(client, fb):
    authorize = start(client, consent.GENDER)
    back = Member(fb, "david@friendbook.test").authorize(authorize)
    assert client.get(local_path(back)).status_code == 302
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session

    response = client.get(local_path(back))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert any("did not complete" in m for m in messages_of(response))
    assert ConsentRecord.objects.filter(category=consent.GENDER).count() == 1


def test_skipping_the_permission_screen_is_refused(client, fb):
    """allauth's own login URL would ask Friendbook directly: nothing may come of it."""
    response = client.post(
        reverse("openid_connect_login", args=["friendbook"]), {"scope": "gender,interests"}
    )
    assert response.status_code == 302
    back = Member(fb, "elif@friendbook.test").authorize(response["Location"])
    response = client.get(local_path(back))
    assert response["Location"] == PERMISSIONS
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(email="elif@friendbook.test").exists()
    assert not SocialProfile.objects.exists()


def test_provider_down_at_the_permission_screen(client, store_uses):
    from .friendbook import free_port

    store_uses(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    response = client.post(PERMISSIONS, {"gender": "on", "continue": "1"})
    assert response.status_code == 503
    assert b"cannot be reached right now" in response.content
    assert "_auth_user_id" not in client.session


def test_provider_down_at_the_callback(client, fb, store_uses):
    from .friendbook import free_port

    authorize = start(client, consent.GENDER)
    back = Member(fb, "ana@friendbook.test").authorize(authorize)
    store_uses(f"http://127.0.0.1:{free_port()}")  # Friendbook went away meanwhile
    response = client.get(local_path(back))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert any("could not be reached" in m for m in messages_of(response))


def test_malformed_and_oversized_claims_are_cleaned(client, fb):
    every = [c for c in consent.OPTIONAL if c != consent.FRIENDS]
    response = sign_in(client, fb, "mallory@friendbook.test", *every)
    assert response.status_code == 302
    user = get_user_model().objects.get(email="mallory@friendbook.test")
    profile = SocialProfile.objects.get(user=user)
    assert profile.age_band == ""
    assert profile.birthday_month is None
    assert profile.gender == ""
    assert profile.relationship_status == ""
    assert len(profile.interests) == 50
    assert profile.interests[:2] == ["Chess", "Tea"]
    assert all(isinstance(i, str) and len(i) <= 60 for i in profile.interests)
    page = client.get(reverse("social:privacy"))
    assert page.status_code == 200
    assert b"<script>alert" not in page.content


def test_unusual_but_valid_values_are_normalised(client, fb):
    sign_in(client, fb, "future@friendbook.test", *consent.OPTIONAL)
    profile = SocialProfile.objects.get(user__email="future@friendbook.test")
    assert profile.age_band == ""  # born in the future: not an age
    assert profile.gender == "female"
    assert profile.relationship_status == "in_relationship"
    assert profile.interests == ["Knitting", "Opera"]


def test_existing_email_account_connects_through_the_same_screen(client, fb):
    from tests.factories import UserFactory

    shopper = UserFactory(email="shopper@agora.test")
    client.force_login(shopper)
    page = client.get(PERMISSIONS)
    assert b"Connect Friendbook" in page.content
    authorize = start(client, consent.INTERESTS)
    back = Member(fb, "ana@friendbook.test").authorize(authorize)
    response = client.get(local_path(back))
    assert response.status_code == 302 and response["Location"] == reverse("social:privacy")
    assert messages_of(response) == ["Friendbook is now connected to your Agora account."]
    account = SocialAccount.objects.get(provider="friendbook")
    assert account.user == shopper
    assert get_user_model().objects.count() == 1
    assert granted_categories(shopper) == {consent.BASIC, consent.INTERESTS}


def test_signing_in_with_the_email_of_an_existing_account_asks_to_sign_in_first(client, fb):
    from tests.factories import UserFactory

    shopper = UserFactory(email="ben@friendbook.test")
    response = sign_in(client, fb, "ben@friendbook.test", consent.INTERESTS)

    permissions = reverse("social:permissions", args=["friendbook"])
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={quote(permissions, safe='')}"
    [text] = messages_of(response)
    assert "An Agora account already uses ben@friendbook.test" in text
    assert not SocialAccount.objects.exists() and not ConsentRecord.objects.exists()
    assert "_auth_user_id" not in client.session

    # Signed in with the password, the shopper comes back to the same screen to connect.
    client.force_login(shopper)
    assert b"Connect Friendbook" in client.get(permissions).content


def test_mandatory_verification_existing_unverified_account_gets_a_real_email(
    client, fb, settings, mailoutbox
):
    """Issue 17, item 5: with ACCOUNT_EMAIL_VERIFICATION=mandatory, Friendbook with the email of
    an unverified local account says an email was sent, and one is (with the way on)."""
    from allauth.account.models import EmailAddress

    from tests.factories import UserFactory

    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    shopper = UserFactory(email="ben@friendbook.test")
    EmailAddress.objects.create(user=shopper, email=shopper.email, primary=True, verified=False)
    response = sign_in(client, fb, "ben@friendbook.test", consent.INTERESTS)

    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert messages_of(response) == [
        "We sent an email to ben@friendbook.test with the next step. Nothing was shared and "
        "you are not signed in."
    ]
    [email] = mailoutbox
    assert email.to == ["ben@friendbook.test"]
    assert "An Agora account already uses this address" in email.body
    assert reverse("account_reset_password") in email.body
    assert "&amp;" not in email.body and "%2Fsocial%2F" in email.body
    assert not SocialAccount.objects.exists() and not ConsentRecord.objects.exists()
    assert "_auth_user_id" not in client.session


def test_mandatory_verification_new_friendbook_member_is_signed_in(client, fb, settings):
    """Friendbook vouches for the address (email_verified), so mandatory verification lets a new
    member in at once, with the address marked verified."""
    from allauth.account.models import EmailAddress

    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    response = sign_in(client, fb, "ana@friendbook.test", consent.INTERESTS)

    assert response.status_code == 302, messages_of(response)
    user = get_user_model().objects.get(email="ana@friendbook.test")
    assert client.session.get("_auth_user_id") == str(user.pk)
    assert EmailAddress.objects.get(user=user).verified
    assert SocialAccount.objects.get(provider="friendbook").user == user


def test_grant_more_re_asks_friendbook_for_the_added_scopes(client, fb):
    member = Member(fb, "ben@friendbook.test")
    client.get(local_path(member.authorize(start(client))))
    user = get_user_model().objects.get(email="ben@friendbook.test")
    assert granted_categories(user) == {consent.BASIC}

    page = client.get(PERMISSIONS)  # signed in: the screen connects, shared ones ticked
    authorize = start(client, consent.GENDER)
    assert scopes(authorize) == {"openid", "profile", "email", "gender"}
    response = client.get(local_path(member.authorize(authorize)))
    assert page.status_code == 200
    assert response.status_code == 302 and response["Location"] == reverse("social:privacy")
    assert messages_of(response) == ["Your sharing with Friendbook is updated."]
    assert granted_categories(user) == {consent.BASIC, consent.GENDER}
    assert SocialProfile.objects.get(user=user).gender == "male"
    assert [r.category for r in ConsentRecord.objects.filter(user=user, action="granted")] == [
        consent.GENDER,
        consent.BASIC,
    ]


def test_unticking_a_shared_category_on_the_screen_does_not_pretend_to_stop_it(client, fb):
    member = Member(fb, "ben@friendbook.test")
    client.get(local_path(member.authorize(start(client, consent.GENDER))))
    user = get_user_model().objects.get(email="ben@friendbook.test")
    html = client.get(PERMISSIONS).content.decode()
    assert 'name="gender" id="id_gender" checked disabled' in html

    # A posted form without "gender" (made by hand: the box is disabled on the page).
    authorize = start(client, consent.INTERESTS)
    assert scopes(authorize) == {"openid", "profile", "email", "gender", "interests"}
    client.get(local_path(member.authorize(authorize)))
    assert granted_categories(user) == {consent.BASIC, consent.GENDER, consent.INTERESTS}
    assert SocialProfile.objects.get(user=user).gender == "male"


def test_friends_who_shop_here_become_connections_both_ways(client, fb):
    from social.models import Connection

    ana, ben = Member(fb, "ana@friendbook.test"), Member(fb, "ben@friendbook.test")
    client.get(local_path(ana.authorize(start(client, consent.FRIENDS))))
    client.post(reverse("account_logout"))
    client.get(local_path(ben.authorize(start(client, consent.FRIENDS))))
    users = get_user_model().objects
    a, b = users.get(email="ana@friendbook.test"), users.get(email="ben@friendbook.test")
    edges = set(Connection.objects.filter(kind="friend").values_list("follower", "followed"))
    assert edges == {(a.pk, b.pk), (b.pk, a.pk)}
    assert social_profile(a).friend_ids == (b.pk,)

    client.post(reverse("social:revoke", args=[consent.FRIENDS]))  # Ben stops sharing
    assert not Connection.objects.filter(kind="friend").exists()
