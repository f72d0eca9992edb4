"""A guest's order link works in any browser, for that order only, until it expires; order
emails are plain text without HTML escaping (issue 17, items 2 and 10)."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.template import engines
from django.template.base import Template as DjangoTemplate
from django.template.defaulttags import AutoEscapeControlNode
from django.test import Client
from django.urls import reverse

from shop.models import Order
from shop.order_links import order_link, order_link_check, order_link_key
from shop.services import order_set_status
from tests.factories import ProductFactory, checkout_post

pytestmark = pytest.mark.django_db


def _guest_order(client, checkout_data, capture, *, full_name="Ana Novak"):
    product = ProductFactory(name="Marlow & Co <b>Kettle</b>", price=Decimal("20.99"))
    added = client.post(reverse("shop:cart_add"), {"variant": product.variants.get().pk})
    assert added.status_code == 302
    with capture(execute=True):
        response = checkout_post(client, {**checkout_data, "full_name": full_name})
    assert response.status_code == 302, response.content.decode()[:500]
    order = Order.objects.get()
    assert order.user is None and order.status == Order.Status.PAID
    return order


def _link_in(body: str) -> str:
    match = re.search(r"(https?://\S+/orders/\S+)", body)
    assert match, body
    return match.group(1).removeprefix(settings.SITE_URL)


def test_the_emailed_link_opens_the_order_in_another_browser(
    client, checkout_data, django_capture_on_commit_callbacks
):
    order = _guest_order(client, checkout_data, django_capture_on_commit_callbacks)
    [email] = mail.outbox
    link = _link_in(email.body)
    # the key is signed with a timestamp in seconds: compare what it signs, not its text (the
    # text changes when the second does between the email and this line)
    path, _, key = link.partition("?key=")
    assert path == order_link(order).partition("?key=")[0] and order_link_check(order, key)
    html_link = re.search(r'href="([^"]+/orders/[^"]+)"', email.alternatives[0][0]).group(1)
    assert html_link.replace("&amp;", "&").removeprefix(settings.SITE_URL) == link

    other_browser = Client()
    assert other_browser.get(order.get_absolute_url()).status_code == 404  # no key: nothing
    page = other_browser.get(link)
    assert page.status_code == 200
    assert order.number in page.content.decode()
    assert "Kettle" in page.content.decode()


def test_a_key_opens_only_its_own_order(client, checkout_data, django_capture_on_commit_callbacks):
    order = _guest_order(client, checkout_data, django_capture_on_commit_callbacks)
    other = Order.objects.create(
        number="A-OTHER-1",
        email="someone@example.test",
        full_name="Someone Else",
        line1="9 Secret Road",
        city="Paris",
        postcode="75001",
        shipping_method=order.shipping_method,
        subtotal=Decimal("1.00"),
        shipping_cost=Decimal("0"),
        total=Decimal("1.00"),
    )
    key = order_link_key(order)
    stranger = Client()
    for path in (other.get_absolute_url(), reverse("shop:order_confirmation", args=[other.number])):
        response = stranger.get(path, {"key": key})
        assert response.status_code == 404
        assert "9 Secret Road" not in response.content.decode()
    assert stranger.get(order.get_absolute_url(), {"key": key + "x"}).status_code == 404
    assert stranger.get(order.get_absolute_url(), {"key": ""}).status_code == 404
    # The key does not open the list of orders, nor anyone's account.
    assert stranger.get(reverse("shop:my_orders")).status_code == 302


def test_an_expired_link_says_so(
    client, checkout_data, django_capture_on_commit_callbacks, settings
):
    order = _guest_order(client, checkout_data, django_capture_on_commit_callbacks)
    link = order_link(order)
    assert Client().get(link).status_code == 200
    settings.AGORA_ORDER_LINK_MAX_AGE_DAYS = -1  # every key is now older than allowed
    response = Client().get(link)
    assert response.status_code == 410
    assert "This order link has expired" in response.content.decode()


def test_status_emails_carry_the_link_too(
    client, checkout_data, django_capture_on_commit_callbacks
):
    order = _guest_order(client, checkout_data, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_set_status(order_id=order.pk, status=Order.Status.SHIPPED)
    [email] = mail.outbox
    assert Client().get(_link_in(email.body)).status_code == 200


def test_plain_text_order_emails_are_not_html_escaped(
    client, checkout_data, django_capture_on_commit_callbacks
):
    _guest_order(
        client, checkout_data, django_capture_on_commit_callbacks, full_name="Marlow & Co <x>"
    )
    [email] = mail.outbox
    assert "Hello Marlow & Co <x>," in email.body
    assert "Marlow & Co <b>Kettle</b>" in email.body
    assert "&amp;" not in email.body and "&lt;" not in email.body
    html = email.alternatives[0][0]
    assert "Marlow &amp; Co &lt;x&gt;" in html and "<x>" not in html  # HTML stays escaped


def _email_text_templates() -> list[Path]:
    root = Path(settings.BASE_DIR)
    return sorted(
        path
        for path in root.glob("**/templates/**/*.txt")
        if ".venv" not in path.parts and re.search(r"/e?mails?/", str(path))
    )


def test_every_plain_text_email_template_turns_autoescape_off():
    """The kind: a text/plain email is not HTML, so no template of one may HTML-escape."""
    templates = _email_text_templates()
    assert len(templates) >= 3  # order confirmation, order status, forum notification
    offenders = []
    for path in templates:
        source = path.read_text()
        compiled = DjangoTemplate(source, engine=engines["django"].engine)
        top = [node for node in compiled.nodelist if node.token.contents.strip()]
        content = [node for node in top if not node.token.contents.startswith("load ")]
        if not (
            len(content) == 1
            and isinstance(content[0], AutoEscapeControlNode)
            and content[0].setting is False
        ):
            offenders.append(str(path))
    assert offenders == []


def test_emails_link_expiry_default_is_reasonable():
    assert timedelta(days=settings.AGORA_ORDER_LINK_MAX_AGE_DAYS) >= timedelta(days=30)
