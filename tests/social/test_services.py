"""Consent services, selectors and pages, set up through the services as a sign-in would."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse

from social import consent, selectors, services
from social.exceptions import CannotDisconnect, ConsentNotGranted, SocialError
from social.models import Connection, ConsentRecord, SocialProfile
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROFILE = {
    "display_name": "Ana Lima",
    "age_band": "25-34",
    "birthday_month": 5,
    "birthday_day": 12,
    "gender": "female",
    "relationship_status": "single",
    "interests": ["Tea", "Chess"],
}


def signed_in(user=None, *, granted=(), uid=None, friend_uids=()):
    user = user or UserFactory()
    SocialAccount.objects.create(user=user, provider="friendbook", uid=uid or str(user.pk))
    services.consent_apply_sign_in(
        user=user,
        provider="friendbook",
        granted=set(granted),
        profile={**PROFILE, "friend_uids": list(friend_uids)},
    )
    return user


def profile_demographics(user):
    from personalization.models import PreferenceProfile

    profile = PreferenceProfile.objects.filter(user=user).first()
    return profile.demographics if profile else {}


def test_sign_in_stores_only_granted_fields():
    user = signed_in(granted={consent.AGE})
    profile = SocialProfile.objects.get(user=user)
    assert profile.age_band == "25-34"
    assert profile.gender == "" and profile.interests == [] and profile.birthday_month is None
    assert selectors.granted_categories(user) == {consent.BASIC, consent.AGE}


def test_repeated_sign_in_appends_no_duplicate_grants():
    user = signed_in(granted={consent.AGE})
    services.consent_apply_sign_in(
        user=user, provider="friendbook", granted={consent.AGE}, profile=PROFILE
    )
    assert ConsentRecord.objects.filter(user=user).count() == 2


def test_revoke_deletes_data_records_history_and_rebuilds_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        user = signed_in(granted={consent.GENDER, consent.INTERESTS})
    assert profile_demographics(user) == {"gender": "female", "interests": ["tea", "chess"]}
    with django_capture_on_commit_callbacks() as callbacks:
        services.consent_revoke(user=user, category=consent.GENDER)
    assert "gender" in profile_demographics(user)  # the rebuild waits for the commit
    for callback in callbacks:
        callback()
    assert profile_demographics(user) == {"interests": ["tea", "chess"]}
    profile = SocialProfile.objects.get(user=user)
    assert profile.gender == "" and profile.interests == ["Tea", "Chess"]
    latest = ConsentRecord.objects.filter(user=user).first()
    assert (latest.category, latest.action, latest.source) == ("gender", "revoked", "privacy_page")
    assert selectors.granted_categories(user) == {consent.BASIC, consent.INTERESTS}
    assert selectors.social_profile(user).gender == ""


def test_revoke_refuses_what_is_not_shared_and_the_basic_profile():
    user = signed_in()
    with pytest.raises(ConsentNotGranted):
        services.consent_revoke(user=user, category=consent.GENDER)
    with pytest.raises(SocialError):
        services.consent_revoke(user=user, category=consent.BASIC)
    with pytest.raises(SocialError):
        services.consent_revoke(user=user, category="shoe-size")


def test_consent_records_are_append_only():
    user = signed_in()
    record = ConsentRecord.objects.get(user=user)
    record.action = "revoked"
    with pytest.raises(ValueError):
        record.save()


def test_social_profile_is_none_without_a_grant():
    assert selectors.social_profile(UserFactory()) is None
    assert selectors.granted_categories(UserFactory()) == set()


def test_friends_connect_only_when_both_share_friends():
    ana = signed_in(granted={consent.FRIENDS}, uid="fb-ana", friend_uids=["fb-ben", "fb-cem"])
    ben = signed_in(granted={consent.FRIENDS}, uid="fb-ben", friend_uids=["fb-ana"])
    cem = signed_in(granted=set(), uid="fb-cem", friend_uids=["fb-ana"])  # does not share
    edges = set(Connection.objects.filter(kind="friend").values_list("follower", "followed"))
    assert edges == {(ana.pk, ben.pk), (ben.pk, ana.pk)}
    assert selectors.social_profile(cem).friend_ids == ()

    services.consent_revoke(user=ana, category=consent.FRIENDS)
    assert not Connection.objects.filter(kind="friend").exists()


def test_disconnect_withdraws_everything(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = signed_in(granted={consent.GENDER})
    assert profile_demographics(user) == {"gender": "female"}
    account = SocialAccount.objects.get(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.social_account_disconnect(user=user, account_id=account.pk)
    assert not SocialAccount.objects.filter(user=user).exists()
    assert not SocialProfile.objects.filter(user=user).exists()
    assert selectors.granted_categories(user) == set()
    assert set(
        ConsentRecord.objects.filter(user=user, action="revoked").values_list("source", flat=True)
    ) == {"disconnect"}
    assert profile_demographics(user) == {}


def test_disconnect_needs_a_way_back_in():
    user = UserFactory()
    user.set_unusable_password()
    user.save()
    user = signed_in(user)
    with pytest.raises(CannotDisconnect):
        services.social_account_disconnect(
            user=user, account_id=SocialAccount.objects.get(user=user).pk
        )


def test_privacy_page_shows_sharing_history_and_a_constant_number_of_queries(
    client, django_assert_max_num_queries
):
    user = signed_in(granted={consent.AGE, consent.INTERESTS, consent.FRIENDS})
    client.force_login(user)
    with django_assert_max_num_queries(20) as ctx:
        response = client.get(reverse("social:privacy"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Age band 25-34" in html and "Tea, Chess" in html
    assert "Stop sharing" in html and "Permission screen at sign-in" in html
    for _ in range(30):
        services.consent_revoke(user=user, category=consent.AGE)
        services.consent_apply_sign_in(
            user=user, provider="friendbook", granted={consent.AGE}, profile=PROFILE
        )
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        assert client.get(reverse("social:privacy")).status_code == 200


def test_revoke_and_disconnect_views(client):
    user = signed_in(granted={consent.GENDER})
    client.force_login(user)
    assert client.get(reverse("social:revoke", args=["gender"])).status_code == 405
    response = client.post(reverse("social:revoke", args=["gender"]))
    assert response.status_code == 302
    again = client.post(reverse("social:revoke", args=["gender"]))  # a second tab, say
    assert again.status_code == 409
    assert again.templates[0].name == "social/privacy.html"
    assert "You are not sharing Gender." in again.content.decode()
    assert client.post(reverse("social:revoke", args=["nonsense"])).status_code == 404
    account = SocialAccount.objects.get(user=user)
    other = signed_in(UserFactory())
    other_account = SocialAccount.objects.get(user=other)
    assert client.post(reverse("social:disconnect", args=[other_account.pk])).status_code == 400
    assert client.post(reverse("social:disconnect", args=[account.pk])).status_code == 302
    assert not SocialAccount.objects.filter(pk=account.pk).exists()
    assert SocialAccount.objects.filter(pk=other_account.pk).exists()


def test_disconnecting_the_only_way_in_explains_itself_on_the_privacy_page(client):
    user = signed_in(granted={consent.GENDER})
    user.set_unusable_password()
    user.save()
    client.force_login(user)
    page = client.get(reverse("social:privacy")).content.decode()
    assert reverse("account_set_password") in page
    account = SocialAccount.objects.get(user=user)
    response = client.post(reverse("social:disconnect", args=[account.pk]))
    assert response.status_code == 409
    assert response.templates[0].name == "social/privacy.html"
    assert "Set a password first" in response.content.decode()
    assert SocialAccount.objects.filter(pk=account.pk).exists()
    assert consent.GENDER in selectors.granted_categories(user)


def test_privacy_page_needs_a_signed_in_shopper(client):
    response = client.get(reverse("social:privacy"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_login_page_offers_friendbook_through_the_permission_screen(client):
    html = client.get(reverse("account_login")).content.decode()
    assert "Continue with Friendbook" in html
    assert reverse("social:permissions", args=["friendbook"]) in html
    assert "Google" not in html and "Facebook" not in html  # no credentials configured


def test_allauths_own_provider_page_leads_to_the_permission_screen(client):
    page = client.get("/accounts/oidc/friendbook/login/?next=/cart/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{reverse("social:permissions", args=["friendbook"])}?next=/cart/"' in html
    assert "<form" not in html.split("<main", 1)[-1]  # no button straight to Friendbook


def test_permission_screen_starts_with_optional_categories_unchecked(client):
    html = client.get(reverse("social:permissions", args=["friendbook"])).content.decode()
    for code, category in consent.CATEGORIES.items():
        assert category.purpose.split(":")[0] in html
        if code != consent.BASIC:
            assert f'name="{code}" id="id_{code}">' in html
    assert "Required" in html
    assert client.get(reverse("social:permissions", args=["myspace"])).status_code == 404


def test_signed_in_shopper_sees_current_grants_ticked(client):
    user = signed_in(granted={consent.GENDER})
    client.force_login(user)
    html = client.get(reverse("social:permissions", args=["friendbook"])).content.decode()
    assert 'name="gender" id="id_gender" checked disabled' in html
    assert 'name="age" id="id_age">' in html


def test_demo_seeder_is_idempotent():
    import io

    from social.demo import seed

    users = [
        UserFactory(username=f"shopper{n:02d}", email=f"shopper{n:02d}@agora.test") for n in (1, 2)
    ]
    seed(stdout=io.StringIO())
    count = ConsentRecord.objects.count()
    seed(stdout=io.StringIO())
    assert ConsentRecord.objects.count() == count
    assert all(consent.BASIC in selectors.granted_categories(u) for u in users)


def test_google_and_facebook_appear_once_their_credentials_are_set():
    """Settings are read at start-up, so this asks a fresh process (a Django shell)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = "from django.conf import settings; print(sorted(settings.SOCIALACCOUNT_PROVIDERS))"
    env = {**os.environ, "GOOGLE_CLIENT_ID": "g-id", "GOOGLE_CLIENT_SECRET": "g-secret"}
    env.pop("FACEBOOK_CLIENT_ID", None)
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=root,
        env={**env, "DATABASE_URL": "sqlite:///:memory:"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "['google', 'openid_connect']"
