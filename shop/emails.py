"""Transactional emails about orders (plain text and HTML)."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

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


def send_order_confirmation(*, order_id: int) -> bool:
    """Send an order's confirmation if it is still owed; returns whether it was sent now.

    The order row is locked while the email goes out and marked sent in the same transaction,
    so two workers (a redelivered task and the sweep) never both send it; an SMTP failure
    (``OSError``) rolls back and leaves it owed for the next try. A worker killed between the
    SMTP hand-over and the commit sends it once more: at least once, never zero times.
    """
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("shipping_method")
            .filter(pk=order_id, confirmation_due=True)
            .first()
        )
        if order is None:  # already sent, not owed, or being sent by another worker right now
            return False
        _send(
            order,
            subject=f"Your Agora order {order.number} is confirmed",
            template="order_confirmation",
        )
        Order.objects.filter(pk=order.pk).update(
            confirmation_due=False, confirmation_sent_at=timezone.now()
        )
    return True


def pending_confirmation_ids(*, older_than: timedelta, limit: int = 500) -> list[int]:
    """Ids of orders whose confirmation is still owed and was placed more than ``older_than``
    ago (the normal path had its chance), oldest first, at most ``limit``."""
    cutoff = timezone.now() - older_than
    return list(
        Order.objects.filter(confirmation_due=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


#: The statuses whose change is emailed to the shopper (``order_set_status``).
EMAILED_STATUSES = frozenset({Order.Status.SHIPPED, Order.Status.CANCELLED, Order.Status.REFUNDED})


def send_order_status(*, order_id: int) -> bool:
    """Email the order's current status if it is one that is emailed and its email has not
    gone out yet; returns whether it was sent now.

    Idempotent like the confirmation: the row is locked while the email goes out and
    ``status_emailed`` is set in the same transaction, so a re-run task (a redelivery, a call
    parked while the broker was down, the same call queued twice) sends nothing twice; an
    SMTP failure (``OSError``) rolls back and leaves it owed. Two quick changes (shipped, then
    refunded) before the worker runs send the current one only.
    """
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("shipping_method")
            .filter(pk=order_id, status__in=EMAILED_STATUSES)
            .first()
        )
        if order is None or order.status_emailed == order.status:
            return False
        _send(
            order,
            subject=f"Your Agora order {order.number}: {order.get_status_display().lower()}",
            template="order_status",
        )
        Order.objects.filter(pk=order.pk).update(status_emailed=order.status)
    return True
