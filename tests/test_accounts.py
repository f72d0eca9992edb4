import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_email_sign_up_signs_the_shopper_in(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.test", "password1": "a-Long-pass-42", "password2": "a-Long-pass-42"},
    )
    assert response.status_code == 302
    assert client.get(reverse("shop:my_orders")).status_code == 200


def test_mandatory_email_verification_is_a_setting(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    client.post(
        reverse("account_signup"),
        {
            "email": "verify@example.test",
            "password1": "a-Long-pass-42",
            "password2": "a-Long-pass-42",
        },
    )
    assert "Confirm" in mail.outbox[0].subject
    assert client.get(reverse("shop:my_orders")).status_code == 302  # not signed in yet


def test_password_reset_sends_a_link(client):
    UserFactory(email="forgot@example.test")
    client.post(reverse("account_reset_password"), {"email": "forgot@example.test"})
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_login_with_a_wrong_password_is_refused_clearly(client):
    UserFactory(email="ana@example.test")
    response = client.post(
        reverse("account_login"), {"login": "ana@example.test", "password": "wrong" + PASSWORD}
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
