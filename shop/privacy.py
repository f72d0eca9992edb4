"""Personal data held by the shop: carts and orders (see privacy.registry)."""

from privacy import registry
from privacy.registry import Delete, Detach, Keep


def export_cart(user) -> list[dict]:
    from .models import CartItem

    items = CartItem.objects.filter(cart__user=user).select_related("variant__product")
    return [
        {
            "product": item.variant.product.name,
            "variant": item.variant.label,
            "sku": item.variant.sku,
            "quantity": item.quantity,
            "added_at": item.added_at,
        }
        for item in items.order_by("added_at", "pk")
    ]


ORDER_FIELDS = [
    "number",
    "created_at",
    "status",
    "email",
    "full_name",
    "line1",
    "line2",
    "city",
    "postcode",
    "country",
    "phone",
    "shipping_method__name",
    "subtotal",
    "shipping_cost",
    "total",
    "currency",
    "card_last4",
]


def export_orders(user) -> list[dict]:
    from .models import Order, OrderLine

    orders = list(
        Order.objects.filter(user=user).order_by("created_at", "pk").values("pk", *ORDER_FIELDS)
    )
    lines: dict[int, list] = {}
    for line in (
        OrderLine.objects.filter(order__user=user)
        .order_by("pk")
        .values(
            "order_id",
            "product_name",
            "variant_label",
            "sku",
            "unit_price",
            "quantity",
            "line_total",
        )
    ):
        lines.setdefault(line.pop("order_id"), []).append(line)
    for order in orders:
        order["lines"] = lines.get(order.pop("pk"), [])
    return orders


registry.register(
    "shop.Cart",
    kind="cart",
    description="Your shopping cart: what is in it and when you added it. Abandoned carts "
    "are deleted after the retention period shown on this page.",
    export=export_cart,
    fields={
        "product": "The product's name.",
        "variant": "Colour and size.",
        "sku": "The stock-keeping unit.",
        "quantity": "How many.",
        "added_at": "When you added it (UTC, ISO 8601).",
    },
    erase=Delete(),
)

registry.register(
    "shop.Order",
    kind="orders",
    description="Orders you placed: what you bought, where it went and what you paid. After "
    "erasure we must keep orders for accounting, but without your name, address, phone or "
    "email.",
    fields={
        "number": "The order number.",
        "created_at": "When you placed it (UTC, ISO 8601).",
        "status": "paid, processing, shipped, delivered, cancelled or refunded.",
        "email": "Where we sent the confirmation.",
        "full_name": "The name on the delivery.",
        "line1": "Delivery address.",
        "line2": "Delivery address, second line.",
        "city": "City.",
        "postcode": "Postcode.",
        "country": "Country (ISO 3166-1 alpha-2).",
        "phone": "Phone number for the courier, if you gave one.",
        "shipping_method__name": "How it was shipped.",
        "subtotal": "Items total (decimal string, in the order's currency).",
        "shipping_cost": "Shipping (decimal string).",
        "total": "Total paid (decimal string).",
        "currency": "ISO 4217 currency code.",
        "card_last4": "Last four digits of the card.",
        "lines": "What you bought: product_name, variant_label, sku, unit_price, quantity, "
        "line_total.",
    },
    export=export_orders,
    erase=Detach(
        clear={
            "email": "",
            "full_name": "Former member",
            "line1": "",
            "line2": "",
            "city": "",
            "postcode": "",
            "phone": "",
        }
    ),
)

registry.register(
    "shop.OrderEvent",
    kind="order_history",
    description="The history of your orders: placed, paid, shipped, cancelled.",
    owner="order__user",
    fields={
        "order__number": "The order.",
        "kind": "What happened.",
        "message": "Details.",
        "created_at": "When (UTC, ISO 8601).",
    },
    # The order (kept without identity) keeps its history; the order detaches itself.
    erase=Keep("kept with the order, for accounting"),
    references={"actor": Detach()},
    order=50,
)


def _purge_abandoned_carts(*, before) -> int:
    from .models import Cart

    # A cart is abandoned when neither it nor any of its lines changed since ``before``.
    recent = Cart.objects.filter(items__added_at__gte=before).values("pk")
    return Cart.objects.filter(updated_at__lt=before).exclude(pk__in=recent).delete()[0]


registry.register_retention(
    "abandoned_carts",
    label="Abandoned carts",
    description="A cart you have not changed for this long is emptied and deleted.",
    purge=_purge_abandoned_carts,
    default_days=60,
)


def _forget_signed_pages(*, user_ids) -> None:
    """Signed-in store pages (shop.signed): the shoppers' versions are forgotten, so no page
    kept for them is served again; the unreachable entries expire within
    ``AGORA_SIGNED_PAGE_CACHE_SECONDS``."""
    from .signed import shoppers_changed

    shoppers_changed(user_ids)


registry.register_cache("shop: signed-in store pages", _forget_signed_pages)
