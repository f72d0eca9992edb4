"""Transactional emails about orders (plain text and HTML)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import Order
from .order_links import order_link


def _send(order: Order, *, subject: str, template: str) -> None:
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "discounts": list(order.discounts.all()),
        "site_url": settings.SITE_URL,
        # Opens in any browser (a guest has no account; the session that ordered is gone).
        "order_url": settings.SITE_URL + order_link(order),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"shop/emails/{template}.txt", context),
        to=[order.email],
    )
    message.attach_alternative(
        render_to_string(f"shop/emails/{template}.html", context), "text/html"
    )
    message.send()


def send_order_confirmation(*, order_id: int) -> None:
    order = Order.objects.select_related("shipping_method").get(pk=order_id)
    _send(
        order,
        subject=f"Your Agora order {order.number} is confirmed",
        template="order_confirmation",
    )


def send_order_status(*, order_id: int) -> None:
    order = Order.objects.select_related("shipping_method").get(pk=order_id)
    _send(
        order,
        subject=f"Your Agora order {order.number}: {order.get_status_display().lower()}",
        template="order_status",
    )
