"""Write-side operations on the catalogue and on orders (cart: cart.py, checkout: checkout.py)."""

from django.db import connection, transaction
from django.db.models import F

from config.aftercommit import forget
from config.cache import cache_forget
from webhooks import payloads as webhook_payloads

from .exceptions import InvalidStatusTransition
from .models import Order, OrderEvent, Variant
from .pagecache import storefront_changed
from .payments import get_gateway

S = Order.Status
ALLOWED_TRANSITIONS = {
    S.PAID: {S.PROCESSING, S.SHIPPED, S.CANCELLED, S.REFUNDED},
    S.PROCESSING: {S.SHIPPED, S.CANCELLED, S.REFUNDED},
    S.SHIPPED: {S.DELIVERED, S.REFUNDED},
    S.DELIVERED: {S.REFUNDED},
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}
RESTOCK_FROM = {S.PAID, S.PROCESSING}


def order_for_update(*, order_id) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


@transaction.atomic
def order_set_status(*, order_id, status: str, actor=None, note: str = "") -> Order:
    """Move an order along its lifecycle; cancelling or refunding before shipping restocks."""
    order = order_for_update(order_id=order_id)
    if status not in ALLOWED_TRANSITIONS.get(order.status, set()):
        raise InvalidStatusTransition(
            f"Order {order.number} cannot go from {order.get_status_display()} "
            f"to {S(status).label}."
        )
    previous = order.status
    if status == S.REFUNDED:
        result = get_gateway().refund(reference=order.payment_reference, amount=order.total)
        if not result.approved:
            raise InvalidStatusTransition(f"The refund failed: {result.message}")
    if status in {S.CANCELLED, S.REFUNDED} and previous in RESTOCK_FROM:
        for line in order.lines.exclude(variant=None):
            Variant.objects.filter(pk=line.variant_id).update(stock=F("stock") + line.quantity)
        storefront_changed()  # stock shows on cached store pages (shop.pagecache)
    order.status = status
    order.save(update_fields=["status"])
    message = f"{S(previous).label} → {S(status).label}" + (f": {note}" if note else "")
    OrderEvent.objects.create(order=order, kind="status", message=message[:255], actor=actor)
    from .checkout import order_hooks

    for hook in order_hooks():  # loyalty lowers its figures on a cancel or refund
        hook(order=order, created=False)
    webhook_payloads.emit_order_status_changed(order=order, previous=previous)  # issue 14
    # What is derived from the order's status follows it in the same transaction: the
    # "verified buyer" mark on the buyer's reviews of the order's products.
    from social.reviews.services import reviews_reverify

    reviews_reverify(
        user_id=order.user_id, product_ids=list(order.lines.values_list("product_id", flat=True))
    )
    from .emails import EMAILED_STATUSES

    if status in EMAILED_STATUSES:
        from .tasks import send_order_status_email

        transaction.on_commit(lambda: send_order_status_email.delay(order.pk))
    return order


def catalogue_changed() -> None:
    """Forget cached catalogue data (category tree, filter choices) after an edit and give the
    catalogue a new version, so every cached product card and page is rendered again
    (shop.fragments, shop.pagecache)."""
    from .fragments import catalogue_version_bump
    from .selectors import CATEGORY_TREE_KEY, FACETS_KEY

    def drop():
        cache_forget([CATEGORY_TREE_KEY, FACETS_KEY])  # with a lease (config.cache)
        catalogue_version_bump()

    forget(drop)  # now and after commit: a render meanwhile read the old rows
    storefront_changed()


def product_reindex(*, product_ids=None) -> int:
    """Refresh the full-text search vectors (PostgreSQL only; SQLite searches without them)
    and the cached catalogue data."""
    catalogue_changed()
    if connection.vendor != "postgresql":
        return 0
    sql = """
        UPDATE shop_product p SET search_vector =
            setweight(to_tsvector('english', coalesce(p.name, '')), 'A') ||
            setweight(to_tsvector('english', coalesce(b.name, '')), 'A') ||
            setweight(to_tsvector('english', coalesce(c.name, '')), 'B') ||
            setweight(to_tsvector('english', concat_ws(' ', p.colour, p.style, p.function)), 'B') ||
            setweight(to_tsvector('english', coalesce(p.description, '')), 'C')
        FROM shop_brand b, shop_category c
        WHERE b.id = p.brand_id AND c.id = p.category_id
    """
    params = []
    if product_ids is not None:
        sql += " AND p.id = ANY(%s)"
        params.append(list(product_ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
