"""Order emails go out through a real SMTP server on loopback (the aiosmtpd mail sink)."""

import socket

import pytest
from django.urls import reverse

from config import mailsink
from tests.factories import ProductFactory, ShippingMethodFactory, checkout_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_sink(tmp_path, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = mailsink.start(port=port, path=tmp_path / "mail")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield tmp_path / "mail"
    controller.stop()


def test_order_confirmation_arrives_over_smtp(
    client, smtp_sink, django_capture_on_commit_callbacks
):
    variant = ProductFactory(name="Kettle").variants.get()
    shipping = ShippingMethodFactory()
    client.post(reverse("shop:cart_add"), {"variant": variant.pk, "quantity": "1"})
    with django_capture_on_commit_callbacks(execute=True):
        checkout_post(
            client,
            {
                "email": "ana@example.test",
                "full_name": "Ana Novak",
                "line1": "1 Road",
                "city": "Berlin",
                "postcode": "10115",
                "country": "DE",
                "shipping_method": shipping.pk,
                "card_number": "4242424242424242",
                "card_expiry": "12/35",
                "card_cvc": "123",
            },
        )

    [message] = mailsink.messages(smtp_sink)
    assert message["To"] == "ana@example.test"
    assert "is confirmed" in message["Subject"]
    assert "1 x Kettle" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None
