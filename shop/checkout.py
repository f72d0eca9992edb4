"""Placing an order: the one place where stock, prices and payment meet.

``order_place`` locks the cart's variants (in primary-key order, so two checkouts never
deadlock), checks stock, charges the server-computed total, then decrements stock and writes
the order in the same transaction. Two checkouts racing for the last unit serialize on the row
lock; the loser sees the new stock and gets ``OutOfStock``. The CheckConstraint on
``Variant.stock`` is the last line of defence: stock can never go below zero.

The test gateway answers at once, so charging inside the transaction costs nothing. A gateway
with network latency should authorise here and capture after commit (see docs/decisions.md).
"""

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from personalization import events
from webhooks import payloads as webhook_payloads

from . import pricing
from .exceptions import EmptyCart, OutOfStock, PaymentDeclined, ProductUnavailable
from .models import (
    Cart,
    CartItem,
    Order,
    OrderDiscount,
    OrderEvent,
    OrderLine,
    ShippingMethod,
    Variant,
)
from .money import money
from .pagecache import storefront_changed
from .payments import Card, get_gateway

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Address:
    full_name: str
    line1: str
    city: str
    postcode: str
    country: str
    line2: str = ""
    phone: str = ""


def _new_order_number(placed_at=None) -> str:
    """``AG<yymmdd>-<8 hex>``: the date is the order's own (``placed_at`` when backdated)."""
    return f"AG{(placed_at or timezone.now()):%y%m%d}-{secrets.token_hex(4).upper()}"


def priced_line(variant: Variant, quantity: int) -> pricing.PricedLine:
    product = variant.product
    return pricing.PricedLine(
        variant_id=variant.pk,
        product_id=product.pk,
        category_id=product.category_id,
        parent_category_id=product.category.parent_id,
        name=str(variant),
        quantity=quantity,
        unit_price=product.price,
    )


@sensitive_variables("card")
def order_place(
    *,
    cart: Cart,
    user,
    email: str,
    address: Address,
    shipping_method: ShippingMethod,
    card: Card,
    quote_token: str | None = None,
    notify: bool = True,
    placed_at=None,
) -> Order:
    """Turn the cart into a paid order or raise a ShopError; on error nothing changes.

    ``quote_token`` is the signed snapshot of the quote the shopper was shown
    (``shop.pricing.Quote.token``); when given, the quote is computed again under the locks and
    any difference (a price, a shipping cost, a discount, a code no longer valid) raises
    ``pricing.QuoteChanged`` before anything is charged. A missing or forged token counts as a
    change. ``None`` (imports, tests of other parts) skips the comparison.

    Codes entered in the cart (``cart.coupon_codes``) are priced by the registered discount
    providers, which lock and consume their uses inside this transaction: a declined payment
    rolls the use back with everything else. Card data never leaves this call except to the
    gateway: only the last four digits are stored.

    ``notify=False`` skips the confirmation email and ``placed_at`` backdates the order; both
    exist for importing history (the demo data), not for shoppers.
    """
    gateway = get_gateway()
    with transaction.atomic():
        # the cart row first: two submissions of the same cart serialize here, and the second
        # finds it empty instead of placing a second order
        cart = Cart.objects.select_for_update().get(pk=cart.pk)
        items = list(CartItem.objects.filter(cart=cart).order_by("variant_id"))
        if not items:
            raise EmptyCart("Your cart is empty.")
        variants = {
            v.pk: v
            for v in Variant.objects.select_for_update(of=("self",))
            .select_related("product__category")
            .filter(pk__in=[item.variant_id for item in items])
            .order_by("pk")
        }
        lines = []
        for item in items:
            variant = variants.get(item.variant_id)
            if variant is None or not variant.product.is_active:
                name = str(variant) if variant is not None else "An item in your cart"
                raise ProductUnavailable(
                    f"{name} is no longer sold; please remove it from your cart."
                )
            if variant.stock < item.quantity:
                left = f"only {variant.stock} left" if variant.stock else "it is out of stock"
                raise OutOfStock(f"Sorry, {variant}: {left}. Please update your cart.")
            lines.append(priced_line(variant, item.quantity))
        quote, context = pricing.quote_build(
            lines=lines,
            user=user,
            email=email,
            shipping_methods=[shipping_method],
            shipping_method_id=shipping_method.pk,
            codes=list(cart.coupon_codes or []),
            lock=True,
        )
        if quote_token is not None:
            seen = pricing.read_token(quote_token)
            changes = (
                ["This checkout page is too old or was altered."]
                if seen is None
                else pricing.quote_changes(seen, quote, method_id=shipping_method.pk)
            )
            if changes:
                raise pricing.QuoteChanged(
                    "Your order changed since you opened this page. Please check the new "
                    f"total of {pricing._money(quote.total)} and confirm again.",
                    quote=quote,
                    changes=changes,
                )
        subtotal, shipping_cost, total = quote.subtotal, quote.shipping_cost, quote.total
        number = _new_order_number(placed_at)
        result = gateway.charge(
            amount=total,
            currency=settings.AGORA_CURRENCY,
            card=card,
            description=f"Agora order {number}",
        )
        if not result.approved:
            logger.info("Payment declined for order %s (card ending %s)", number, card.last4)
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
            discount_total=quote.discount_total,
            total=total,
            currency=settings.AGORA_CURRENCY,
            payment_gateway=gateway.code,
            payment_reference=result.reference,
            card_last4=card.last4,
            created_at=placed_at or timezone.now(),
            confirmation_due=notify,
        )
        storefront_changed()  # stock shows on cached store pages (shop.pagecache)
        order_lines = []
        for item in items:
            variant = variants[item.variant_id]
            Variant.objects.filter(pk=variant.pk).update(stock=F("stock") - item.quantity)
            price = variant.product.price
            order_lines.append(
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
        OrderLine.objects.bulk_create(order_lines)
        if quote.discounts:
            # A code that took nothing off (free shipping on an order that ships free, a
            # percentage that rounds to €0.00, a zero-value coupon) is no discount line: the
            # order, its emails, the admin and the API never show "−€0.00" (and the database
            # refuses such a row: ``order_discount_positive``). Providers still see every
            # discount; the loyalty one does not consume a coupon that took nothing.
            OrderDiscount.objects.bulk_create(
                OrderDiscount(
                    order=order,
                    code=d.code,
                    label=d.label,
                    amount=d.amount,
                    on_shipping=d.on_shipping,
                )
                for d in quote.discounts
                if d.amount > 0
            )
            for provider in pricing.discount_providers():
                provider.record(order=order, discounts=quote.discounts, context=context)
        paid = money(total, order.currency)
        discount_note = (
            f" after {money(quote.discount_total, order.currency)} discount"
            if quote.discount_total
            else ""
        )
        OrderEvent.objects.create(
            order=order,
            kind="placed",
            message=f"Paid {paid}{discount_note} by card ending {card.last4}",
            actor=order.user,
            created_at=order.created_at,
        )
        for line in order_lines:
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
        if cart.coupon_codes:
            Cart.objects.filter(pk=cart.pk).update(coupon_codes=[])
        for hook in order_hooks():
            hook(order=order, created=True)
        webhook_payloads.emit_order_placed(order=order, lines=order_lines)  # issue 14

        if notify:
            from .tasks import send_order_confirmation

            transaction.on_commit(lambda: send_order_confirmation.delay(order.pk))
    return order


_ORDER_HOOKS: list = []


def register_order_hook(hook) -> None:
    """``hook(*, order, created: bool)`` runs inside the transaction that placed an order or
    changed its status (loyalty keeps its figures this way). Registered from AppConfig.ready()."""
    if hook not in _ORDER_HOOKS:
        _ORDER_HOOKS.append(hook)


def order_hooks() -> list:
    return list(_ORDER_HOOKS)
