"""Placing an order: the one place where stock, prices and payment meet.

``order_place`` locks the cart's variants (in primary-key order, so two checkouts never
deadlock), checks stock, charges the server-computed total, then decrements stock and writes
the order in the same transaction. Two checkouts racing for the last unit serialize on the row
lock; the loser sees the new stock and gets ``OutOfStock``. The CheckConstraint on
``Variant.stock`` is the last line of defence: stock can never go below zero.

The test gateway answers at once, so charging inside the transaction costs nothing. A gateway
with network latency should authorise here and capture after commit (see docs/decisions.md).
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from personalization import events
from webhooks import payloads as webhook_payloads

from .exceptions import EmptyCart, OutOfStock, PaymentDeclined, ProductUnavailable
from .models import Cart, CartItem, Order, OrderEvent, OrderLine, ShippingMethod, Variant
from .payments import Card, get_gateway


@dataclass(frozen=True)
class Address:
    full_name: str
    line1: str
    city: str
    postcode: str
    country: str
    line2: str = ""
    phone: str = ""


def _new_order_number() -> str:
    return f"AG{timezone.now():%y%m%d}-{secrets.token_hex(4).upper()}"


def order_place(
    *,
    cart: Cart,
    user,
    email: str,
    address: Address,
    shipping_method: ShippingMethod,
    card: Card,
    notify: bool = True,
    placed_at=None,
) -> Order:
    """Turn the cart into a paid order or raise a ShopError; on error nothing changes.

    ``notify=False`` skips the confirmation email and ``placed_at`` backdates the order; both
    exist for importing history (the demo data), not for shoppers.
    """
    gateway = get_gateway()
    with transaction.atomic():
        items = list(CartItem.objects.filter(cart=cart).order_by("variant_id"))
        if not items:
            raise EmptyCart("Your cart is empty.")
        variants = {
            v.pk: v
            for v in Variant.objects.select_for_update(of=("self",))
            .select_related("product")
            .filter(pk__in=[item.variant_id for item in items])
            .order_by("pk")
        }
        subtotal = Decimal("0.00")
        for item in items:
            variant = variants.get(item.variant_id)
            if variant is None or not variant.product.is_active:
                raise ProductUnavailable(
                    "An item in your cart is no longer sold; please remove it."
                )
            if variant.stock < item.quantity:
                left = f"only {variant.stock} left" if variant.stock else "it is out of stock"
                raise OutOfStock(f"Sorry, {variant}: {left}. Please update your cart.")
            subtotal += variant.product.price * item.quantity
        shipping_cost = shipping_method.cost_for(subtotal)
        total = subtotal + shipping_cost
        number = _new_order_number()
        result = gateway.charge(
            amount=total,
            currency=settings.AGORA_CURRENCY,
            card=card,
            description=f"Agora order {number}",
        )
        if not result.approved:
            raise PaymentDeclined(result.message or "The payment was declined.")

        order = Order.objects.create(
            number=number,
            user=user if user is not None and user.is_authenticated else None,
            email=email,
            full_name=address.full_name,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            postcode=address.postcode,
            country=address.country,
            phone=address.phone,
            shipping_method=shipping_method,
            subtotal=subtotal,
            shipping_cost=shipping_cost,
            total=total,
            currency=settings.AGORA_CURRENCY,
            payment_gateway=gateway.code,
            payment_reference=result.reference,
            card_last4=card.last4,
            created_at=placed_at or timezone.now(),
        )
        lines = []
        for item in items:
            variant = variants[item.variant_id]
            Variant.objects.filter(pk=variant.pk).update(stock=F("stock") - item.quantity)
            price = variant.product.price
            lines.append(
                OrderLine(
                    order=order,
                    product=variant.product,
                    variant=variant,
                    product_name=variant.product.name,
                    variant_label=variant.label,
                    sku=variant.sku,
                    unit_price=price,
                    quantity=item.quantity,
                    line_total=price * item.quantity,
                )
            )
        OrderLine.objects.bulk_create(lines)
        OrderEvent.objects.create(
            order=order,
            kind="placed",
            message=f"Paid {total} {order.currency} by card",
            actor=order.user,
            created_at=order.created_at,
        )
        for line in lines:
            events.record(
                events.Event.Kind.PURCHASE,
                user=order.user,
                session_key=cart.session_key or "",
                product=line.product,
                value=line.line_total,
                occurred_at=order.created_at,
                quantity=line.quantity,
                order=order.number,
                variant=line.variant_id,
            )
        CartItem.objects.filter(cart=cart).delete()
        webhook_payloads.emit_order_placed(order=order, lines=lines)  # issue 14

        if notify:
            from .tasks import send_order_confirmation

            transaction.on_commit(lambda: send_order_confirmation.delay(order.pk))
    return order
