"""Cart services and selectors.

A cart belongs to a signed-in shopper or to an anonymous visitor's ``anon_id`` (kept in the
session data, so it survives the session-key change at sign-in). Quantities are checked against
stock when added; checkout checks again under a row lock.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from personalization import events
from personalization.events import ANON_KEY, anonymous_id

from . import pricing
from .exceptions import CodeNotApplicable, InvalidQuantity, OutOfStock, ProductUnavailable
from .models import Cart, CartItem, ShippingMethod, Variant

MAX_QUANTITY = 99
MAX_CODES = 3


def parse_quantity(raw, *, allow_zero: bool = False) -> int:
    """Turn posted text into a quantity, or raise InvalidQuantity with a clear message."""
    try:
        quantity = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InvalidQuantity("Please enter a whole number for the quantity.") from None
    low = 0 if allow_zero else 1
    if quantity < low:
        raise InvalidQuantity(f"The quantity must be at least {low}.")
    if quantity > MAX_QUANTITY:
        raise InvalidQuantity(f"You can order at most {MAX_QUANTITY} of one item.")
    return quantity


def cart_get(request, *, create: bool = False) -> Cart | None:
    if request.user.is_authenticated:
        cart = Cart.objects.filter(user=request.user).first()
        if cart is None and create:
            cart = _get_or_create(user=request.user)
        return cart
    anon_id = request.session.get(ANON_KEY)
    if anon_id:
        cart = Cart.objects.filter(session_key=anon_id).first()
        if cart is not None or not create:
            return cart
    if not create:
        return None
    return _get_or_create(session_key=anonymous_id(request))


def _get_or_create(**owner) -> Cart:
    try:
        with transaction.atomic():
            return Cart.objects.get_or_create(**owner)[0]
    except IntegrityError:  # a parallel request created it first
        return Cart.objects.get(**owner)


def _buyable_variant(variant_id) -> Variant:
    """The variant to add, or a ShopError naming the real reason (nothing chosen, withdrawn,
    unknown); stock is checked by the caller and has its own message."""
    if variant_id in (None, ""):
        raise InvalidQuantity("Choose a size or colour before adding it to your cart.")
    try:
        variant_id = int(variant_id)
    except (TypeError, ValueError):
        raise ProductUnavailable("That size or colour is not one we sell.") from None
    variant = Variant.objects.select_related("product").filter(pk=variant_id).first()
    if variant is None:
        raise ProductUnavailable("That size or colour is not one we sell.")
    if not variant.product.is_active:
        raise ProductUnavailable(f"{variant.product.name} is no longer sold.")
    return variant


def _check_stock(variant: Variant, quantity: int) -> None:
    if variant.stock <= 0:
        raise OutOfStock(f"Sorry, {variant} is out of stock.")
    if quantity > variant.stock:
        raise OutOfStock(f"Only {variant.stock} of {variant} left in stock.")


@transaction.atomic
def cart_add(*, cart: Cart, variant_id, quantity: int, request=None) -> CartItem:
    """Add ``quantity`` of a variant; the cart's total for it may not exceed stock."""
    variant = _buyable_variant(variant_id)
    item = CartItem.objects.select_for_update().filter(cart=cart, variant=variant).first()
    new_quantity = quantity + (item.quantity if item else 0)
    if new_quantity > MAX_QUANTITY:
        raise InvalidQuantity(f"You can order at most {MAX_QUANTITY} of one item.")
    _check_stock(variant, new_quantity)
    if item:
        item.quantity = new_quantity
        item.save(update_fields=["quantity"])
    else:
        item = CartItem.objects.create(cart=cart, variant=variant, quantity=quantity)
    Cart.objects.filter(pk=cart.pk).update(updated_at=item.added_at)
    if request is not None:
        events.record_for_request(
            events.Event.Kind.ADD_TO_CART,
            request,
            product=variant.product,
            value=variant.product.price * quantity,
            quantity=quantity,
            variant=variant.pk,
        )
    return item


@transaction.atomic
def cart_set_quantity(*, cart: Cart, item_id, quantity: int) -> CartItem | None:
    """Set a line's quantity; 0 removes it. Returns None when removed."""
    try:
        item = CartItem.objects.select_related("variant__product").get(cart=cart, pk=int(item_id))
    except (CartItem.DoesNotExist, TypeError, ValueError):
        raise ProductUnavailable("That item is not in your cart.") from None
    if quantity == 0:
        item.delete()
        return None
    _check_stock(item.variant, quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_remove(*, cart: Cart, item_id) -> None:
    cart_set_quantity(cart=cart, item_id=item_id, quantity=0)


@dataclass
class CartMerge:
    """What ``cart_merge`` did: the shopper's cart and, in words, every change the store made
    to it on its own (shown to the shopper as messages at sign-in)."""

    cart: Cart | None
    changes: list[str]


@transaction.atomic
def cart_merge(*, anon_id: str, user) -> CartMerge:
    """Move an anonymous cart's lines and codes into the shopper's saved cart at sign-in.

    Rules: a variant in both carts gets the sum of both quantities, capped at stock and at
    MAX_QUANTITY; a line whose variant is out of stock or no longer sold is not carried over;
    codes are carried over up to MAX_CODES. Every one of these changes is returned in words
    (``CartMerge.changes``), so the shopper is told what the store did and why (issue 17,
    item 8). Without a saved cart, the anonymous cart simply becomes the shopper's (no change).
    """
    anon_cart = (
        Cart.objects.select_for_update().filter(session_key=anon_id).first() if anon_id else None
    )
    if anon_cart is None:
        return CartMerge(cart=None, changes=[])
    user_cart = Cart.objects.select_for_update().filter(user=user).first()
    if user_cart is None:
        anon_cart.session_key = None
        anon_cart.user = user
        anon_cart.save(update_fields=["session_key", "user"])
        return CartMerge(cart=anon_cart, changes=[])
    changes: list[str] = []
    saved_items = user_cart.items.select_related("variant__product")
    existing = {item.variant_id: item for item in saved_items}
    carried = set()
    for item in anon_cart.items.select_related("variant__product"):
        variant = item.variant
        target = existing.get(item.variant_id)
        if not variant.product.is_active:
            changes.append(f"{variant} is no longer sold, so it was not added to your cart.")
            continue
        limit = min(variant.stock, MAX_QUANTITY)
        if limit <= 0:
            changes.append(f"{variant} is out of stock, so it was not added to your cart.")
            continue
        saved = target.quantity if target else 0
        wanted = item.quantity + saved
        quantity = min(wanted, limit)
        if target:
            carried.add(target.pk)
            if target.quantity != quantity:
                target.quantity = quantity
                target.save(update_fields=["quantity"])
            if quantity < wanted:
                changes.append(
                    f"{variant}: you had {saved} saved in your cart and added {item.quantity}; "
                    f"only {quantity} can be ordered, so your cart has {quantity}."
                )
            else:
                changes.append(
                    f"{variant}: the {item.quantity} you added and the {saved} saved in your "
                    f"cart from an earlier visit make {quantity}."
                )
        else:
            CartItem.objects.create(cart=user_cart, variant=variant, quantity=quantity)
            if quantity < wanted:
                changes.append(
                    f"{variant}: only {quantity} can be ordered, so your cart has {quantity} "
                    f"instead of {wanted}."
                )
    saved_only = [item for item in existing.values() if item.pk not in carried]
    if saved_only:
        count = sum(item.quantity for item in saved_only)
        changes.append(
            f"Your cart also holds {count} item{'s' if count != 1 else ''} you saved on an "
            "earlier visit."
        )
    codes = list(user_cart.coupon_codes or [])
    for code in anon_cart.coupon_codes or []:
        if code in codes:
            continue
        if len(codes) >= MAX_CODES:
            changes.append(
                f"The code {code} was not kept: an order can use at most {MAX_CODES} codes."
            )
            continue
        codes.append(code)
    if codes != list(user_cart.coupon_codes or []):
        user_cart.coupon_codes = codes
        user_cart.save(update_fields=["coupon_codes", "updated_at"])
    anon_cart.delete()
    return CartMerge(cart=user_cart, changes=changes)


@dataclass
class CartLine:
    item: CartItem
    unit_price: Decimal
    line_total: Decimal
    available: int

    @property
    def problem(self) -> str:
        if not self.item.variant.product.is_active:
            return "No longer sold: please remove it to check out."
        if self.available <= 0:
            return "Out of stock since you added it: please remove it to check out."
        if self.item.quantity > self.available:
            return f"Only {self.available} left: lower the quantity to check out."
        return ""


@dataclass
class CartSummary:
    lines: list[CartLine]
    subtotal: Decimal

    @property
    def count(self) -> int:
        return sum(line.item.quantity for line in self.lines)

    @property
    def has_problems(self) -> bool:
        return any(line.problem for line in self.lines)


def cart_summary(cart: Cart | None) -> CartSummary:
    """The cart's lines with server-side prices, in two queries."""
    if cart is None:
        return CartSummary(lines=[], subtotal=Decimal("0.00"))
    items = cart.items.select_related(
        "variant__product__brand", "variant__product__category"
    ).prefetch_related("variant__product__images")
    lines = []
    for item in items:
        price = item.variant.product.price
        lines.append(
            CartLine(
                item=item,
                unit_price=price,
                line_total=price * item.quantity,
                available=item.variant.stock,
            )
        )
    return CartSummary(lines=lines, subtotal=sum((x.line_total for x in lines), Decimal("0.00")))


def cart_count(request) -> int:
    """Items in the visitor's cart, in one query (none for a visitor without a cart).

    Also called for error pages that Django renders before the session and authentication
    middlewares ran (a 400 for a bad Host header or a malformed request): then there is no
    ``request.user`` or ``request.session`` and the count is 0.
    """
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is not None and user.is_authenticated:
        items = CartItem.objects.filter(cart__user=user)
    elif session is not None and session.get(ANON_KEY):
        items = CartItem.objects.filter(cart__session_key=session[ANON_KEY])
    else:
        return 0
    return items.aggregate(n=Sum(F("quantity")))["n"] or 0


def normalize_code(raw) -> str:
    return "".join(str(raw or "").split()).upper()[:40]


def cart_quote(
    cart: Cart | None,
    *,
    user,
    email: str = "",
    shipping_method_id: int | None = None,
    summary: CartSummary | None = None,
) -> pricing.Quote:
    """The cart priced with every active shipping method and the codes entered in it."""
    from .checkout import priced_line

    summary = summary if summary is not None else cart_summary(cart)
    lines = [priced_line(x.item.variant, x.item.quantity) for x in summary.lines]
    quote, _ = pricing.quote_build(
        lines=lines,
        user=user,
        email=email,
        shipping_methods=list(ShippingMethod.objects.filter(is_active=True)),
        shipping_method_id=shipping_method_id,
        codes=list(cart.coupon_codes or []) if cart is not None else [],
    )
    return quote


MAX_CODE_LENGTH = 64  # longer than any code the store issues (issue 16: fuzzed input)


@transaction.atomic
def cart_code_add(*, cart: Cart, code: str, user, email: str = "") -> pricing.Quote:
    """Enter a discount code in the cart. Raises CodeNotApplicable with the failed condition in
    words (unknown, expired, minimum not met, not for these products, not yours, used up ...);
    the cart is then unchanged."""
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    code = normalize_code(code)
    if not code:
        raise CodeNotApplicable("Please enter a code.")
    if len(code) > MAX_CODE_LENGTH or not code.isprintable():
        # NUL and other control characters cannot even be looked up (PostgreSQL refuses them)
        raise CodeNotApplicable("That is not a valid code: type the letters and digits you got.")
    codes = list(cart.coupon_codes or [])
    if code in codes:
        raise CodeNotApplicable(f"The code {code} is already in your cart.")
    if len(codes) >= MAX_CODES:
        raise CodeNotApplicable(f"You can use at most {MAX_CODES} codes in one order.")
    cart.coupon_codes = [*codes, code]
    quote = cart_quote(cart, user=user, email=email)
    problem = next((p for p in quote.problems if p.code == code), None)
    if problem is not None:
        raise CodeNotApplicable(problem.message)
    if not any(d.code == code for d in quote.discounts):
        raise CodeNotApplicable(f"The code {code} does not exist.")
    cart.save(update_fields=["coupon_codes", "updated_at"])
    return quote


@transaction.atomic
def cart_code_remove(*, cart: Cart, code: str) -> None:
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    code = normalize_code(code)
    if code not in (cart.coupon_codes or []):
        raise CodeNotApplicable(f"The code {code} is not in your cart.")
    cart.coupon_codes = [c for c in cart.coupon_codes if c != code]
    cart.save(update_fields=["coupon_codes", "updated_at"])
