"""Payloads of the store's events: ids and public fields only (no names, emails, addresses).

Each ``emit_*`` is called by the domain service inside its transaction (see services.py)."""

from .services import webhook_event_emit


def order_data(order) -> dict:
    return {
        "order_id": order.pk,
        "order_number": order.number,
        "customer_id": order.user_id,
        "status": order.status,
        "total": order.total,
        "currency": order.currency,
    }


def emit_order_placed(*, order, lines) -> None:
    webhook_event_emit(
        event="order.placed",
        payload={
            **order_data(order),
            "created_at": order.created_at,
            "lines": [
                {"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price}
                for line in lines
            ],
        },
    )
    webhook_event_emit(event="order.paid", payload=order_data(order))


def emit_order_status_changed(*, order, previous: str) -> None:
    webhook_event_emit(
        event="order.status_changed", payload={**order_data(order), "previous_status": previous}
    )
    if order.status == "refunded":
        webhook_event_emit(event="order.refunded", payload=order_data(order))


def emit_consent(*, record) -> None:
    webhook_event_emit(
        event=f"consent.{record.action}",
        payload={
            "customer_id": record.user_id,
            "category": record.category,
            "source": record.source,
            "policy_version": record.policy_version,
            "at": record.created_at,
        },
    )


def emit_review_published(*, review) -> None:
    webhook_event_emit(
        event="review.published",
        payload={
            "review_id": review.pk,
            "product_id": review.product_id,
            "product_slug": review.product.slug,
            "rating": review.rating,
            "published_at": review.moderated_at or review.created_at,
        },
    )
