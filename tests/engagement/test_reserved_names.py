"""Names that pass for the store are reserved everywhere a shopper's name shows (item 4)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from social.engagement import services
from social.names import is_reserved_name, public_name
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    [
        "admin",
        "Admin",
        "ADMIN",
        "adm1n",
        "ADMlN",
        "аdmin",
        "staff",
        "Support",
        "agora",
        "Agora-Team",
        "agora_support",
        "moderator2",
        "rnoderator",
        "help",
        "the-admin",
        "0fficial",
    ],
)
def test_reserved_names_are_refused_whatever_the_case_or_look_alikes(name):
    assert is_reserved_name(name)


@pytest.mark.parametrize("name", ["ana", "Marlow", "sh0pper33", "anna-shop", "helper", "Tom Li"])
def test_ordinary_names_are_free(name):
    assert not is_reserved_name(name)


def test_a_shopper_cannot_take_a_reserved_handle_or_display_name(client):
    shopper = UserFactory()
    for fields in ({"handle": "admin"}, {"handle": "Staff"}, {"display_name": "Agora Support"}):
        with pytest.raises(ValidationError) as error:
            services.profile_update(user=shopper, **fields)
        assert "reserved" in str(error.value)
    client.force_login(shopper)
    response = client.post(
        reverse("engagement:profile_settings"),
        {"handle": "Adm1n", "display_name": "", "bio": "", "is_public": "on"},
    )
    assert response.status_code == 400  # the form again, with the reason
    assert "is reserved" in response.content.decode()
    assert services.profile_get_or_create(user=shopper).handle != "Adm1n"


def test_handles_are_unique_without_regard_to_case():
    first, second = UserFactory(), UserFactory()
    services.profile_update(user=first, handle="marlow")
    with pytest.raises(ValidationError):
        services.profile_update(user=second, handle="Marlow")
    services.profile_update(user=first, is_public=True)
    assert services.follow(follower=second, handle="MARLOW") is True  # found, case-insensitively


def test_generated_handles_and_names_avoid_reserved_words():
    user = UserFactory(username="admin", first_name="Agora Support")
    profile = services.profile_get_or_create(user=user)
    assert not is_reserved_name(profile.handle) and profile.display_name == ""
    assert public_name(user) == "admin"  # the reserved first name is not shown
    assert public_name(UserFactory(username="x1", first_name="Ana")) == "Ana"


def test_signing_up_as_admin_gets_a_safe_username(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "admin@example.test",
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
        },
    )
    assert response.status_code == 302, response.content.decode()[:300]
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(email="admin@example.test")
    assert not is_reserved_name(user.username)
