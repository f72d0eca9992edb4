"""Prices of a cart: lines, shipping, discounts and total, computed on the server only.

A ``Quote`` is what the shopper is shown. Its ``token`` (a signed snapshot of the lines' unit
prices, every shipping method's cost and the discounts) is posted back with the checkout form;
``order_place`` computes the quote again under its row locks and refuses with ``QuoteChanged``
(409, carrying the new quote and the differences in words) when anything the shopper saw is
no longer true. So the price the shopper confirmed is the price charged, never a silent change.

Discounts come from providers registered here (``register_discount_provider``); the loyalty
app registers its coupons, so the shop never imports a feature that builds on it.

Money: Decimal throughout; discounts are computed exactly and rounded once, to cents, at the
end (``round_cents``), with the rounding spread over the discount lines by largest remainder
so that the lines add up to the rounded total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Protocol

from django.core import signing

from .exceptions import ShopError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
TOKEN_SALT = "shop.pricing.quote"
TOKEN_MAX_AGE = 6 * 3600  # seconds a checkout page stays confirmable


def round_cents(value: Decimal) -> Decimal:
    """Round half up to the currency's cents (EUR: 2 places), the one rounding step."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PricedLine:
    variant_id: int
    product_id: int
    category_id: int
    parent_category_id: int | None
    name: str
    quantity: int
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Discount:
    """One discount line: ``amount`` is in cents already (after the single rounding)."""

    code: str
    label: str
    amount: Decimal
    on_shipping: bool = False
    reference: int | None = None  # the provider's id for it (a coupon's pk)
    exact: Decimal | None = None  # before rounding; providers fill it, the quote rounds


@dataclass
class PricingContext:
    """What a discount provider sees: the shopper, the priced lines and the codes entered."""

    user: object
    email: str
    lines: list[PricedLine]
    subtotal: Decimal
    shipping_cost: Decimal
    codes: list[str]
    lock: bool = False  # True inside order_place: lock what is about to be consumed


@dataclass
class CodeProblem:
    code: str
    message: str


class DiscountProvider(Protocol):
    def discounts(self, context: PricingContext) -> tuple[list[Discount], list[CodeProblem]]:
        """Discounts for the context (exact amounts in ``exact``) and, per code that does not
        apply, the reason in words. With ``context.lock`` the provider locks its rows."""

    def record(self, *, order, discounts: list[Discount], context: PricingContext) -> None:
        """Consume what the order used (inside the order's transaction) or raise ShopError."""


_PROVIDERS: list[DiscountProvider] = []


def register_discount_provider(provider: DiscountProvider) -> None:
    if all(type(p) is not type(provider) for p in _PROVIDERS):
        _PROVIDERS.append(provider)


def discount_providers() -> list[DiscountProvider]:
    return list(_PROVIDERS)


@dataclass
class Quote:
    lines: list[PricedLine]
    subtotal: Decimal
    shipping_costs: dict[int, Decimal]  # every active method's cost for this subtotal
    shipping_method_id: int | None
    discounts: list[Discount] = field(default_factory=list)
    problems: list[CodeProblem] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    @property
    def shipping_cost(self) -> Decimal:
        if self.shipping_method_id is None:
            return ZERO
        return self.shipping_costs.get(self.shipping_method_id, ZERO)

    @property
    def goods_discount(self) -> Decimal:
        return sum((d.amount for d in self.discounts if not d.on_shipping), ZERO)

    @property
    def shipping_discount(self) -> Decimal:
        return sum((d.amount for d in self.discounts if d.on_shipping), ZERO)

    @property
    def discount_total(self) -> Decimal:
        return self.goods_discount + self.shipping_discount

    @property
    def total(self) -> Decimal:
        return max(ZERO, self.subtotal + self.shipping_cost - self.discount_total)

    def total_with(self, method_id: int) -> Decimal:
        """The total if ``method_id`` were chosen (free-shipping discounts follow the method)."""
        cost = self.shipping_costs.get(method_id, ZERO)
        shipping_off = cost if any(d.on_shipping for d in self.discounts) else ZERO
        return max(ZERO, self.subtotal - self.goods_discount + cost - shipping_off)

    def snapshot(self) -> dict:
        return {
            "l": [[x.variant_id, x.quantity, str(x.unit_price)] for x in self.lines],
            "s": {str(k): str(v) for k, v in self.shipping_costs.items()},
            "d": [[d.code, str(d.amount), d.on_shipping] for d in self.discounts],
        }

    @property
    def token(self) -> str:
        """A signed snapshot of what the shopper is shown; the checkout form posts it back."""
        return signing.dumps(self.snapshot(), salt=TOKEN_SALT, compress=True)


class QuoteChanged(ShopError):
    """Something the shopper saw changed before payment: show the new quote, ask again."""

    status_code = 409

    def __init__(self, message: str, *, quote: Quote, changes: list[str]):
        super().__init__(message)
        self.quote = quote
        self.changes = changes


def read_token(token: str) -> dict | None:
    """The snapshot a checkout page was rendered with, or None if missing/forged/too old."""
    try:
        return signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None


def _money(value) -> str:
    from .money import money

    return money(value)


def quote_changes(seen: dict, quote: Quote, *, method_id: int) -> list[str]:
    """What differs between the snapshot the shopper saw and ``quote``, in words ([] if none)."""
    changes = []
    seen_lines = {v: (q, Decimal(p)) for v, q, p in seen.get("l", [])}
    names = {x.variant_id: x.name for x in quote.lines}
    now_lines = {x.variant_id: (x.quantity, x.unit_price) for x in quote.lines}
    for variant_id, (quantity, price) in now_lines.items():
        before = seen_lines.get(variant_id)
        if before is None:
            changes.append(f"{names[variant_id]} was added to your cart.")
        elif before[0] != quantity:
            changes.append(f"The quantity of {names[variant_id]} is now {quantity}.")
        elif before[1] != price:
            changes.append(
                f"The price of {names[variant_id]} changed from {_money(before[1])} "
                f"to {_money(price)}."
            )
    if set(seen_lines) - set(now_lines):
        changes.append("An item was removed from your cart.")
    seen_cost = seen.get("s", {}).get(str(method_id))
    now_cost = quote.shipping_costs.get(method_id)
    if seen_cost is not None and now_cost is not None and Decimal(seen_cost) != now_cost:
        changes.append(f"Shipping changed from {_money(Decimal(seen_cost))} to {_money(now_cost)}.")
    seen_discounts = {code: (Decimal(amount), ship) for code, amount, ship in seen.get("d", [])}
    now_discounts = {d.code: (d.amount, d.on_shipping) for d in quote.discounts}
    problems = {p.code: p.message for p in quote.problems}
    for code, (amount, on_shipping) in seen_discounts.items():
        if code not in now_discounts:
            reason = problems.get(code, "it no longer applies")
            changes.append(f"The code {code} was removed: {reason}")
        elif not on_shipping and now_discounts[code][0] != amount:
            changes.append(
                f"The discount of {code} is now {_money(now_discounts[code][0])} "
                f"instead of {_money(amount)}."
            )
    for code in set(now_discounts) - set(seen_discounts):
        changes.append(f"The code {code} now applies.")
    return changes


def allocate_rounding(discounts: list[Discount], *, cap: Decimal) -> list[Discount]:
    """Round the exact discounts once: the rounded total is ``round_cents(sum(exact))`` (never
    above ``cap``) and each line gets its share by largest remainder, so lines add up to it."""
    if not discounts:
        return []
    exact = [d.exact if d.exact is not None else d.amount for d in discounts]
    total = min(round_cents(sum(exact, Decimal(0))), cap)
    floors = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    left = int(((total - sum(floors, Decimal(0))) / CENT).to_integral_value())
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    amounts = list(floors)
    for i in order:
        if left <= 0:
            break
        amounts[i] += CENT
        left -= 1
    while left < 0:  # capped below the floors' sum: take cents back from the last lines
        for i in reversed(range(len(amounts))):
            if left < 0 and amounts[i] > 0:
                amounts[i] -= CENT
                left += 1
    return [
        Discount(
            code=d.code,
            label=d.label,
            amount=amount,
            on_shipping=d.on_shipping,
            reference=d.reference,
            exact=e,
        )
        for d, amount, e in zip(discounts, amounts, exact, strict=True)
    ]


def quote_build(
    *,
    lines: list[PricedLine],
    user,
    email: str = "",
    shipping_methods=(),
    shipping_method_id: int | None = None,
    codes: list[str] = (),
    lock: bool = False,
) -> tuple[Quote, PricingContext]:
    """Price ``lines`` with every method in ``shipping_methods`` and the entered ``codes``.

    Returns the quote and the context the providers saw (``order_place`` hands it back to them
    to record the redemption). Codes that do not apply are listed in ``quote.problems`` with the
    reason in words; they never raise here.
    """
    subtotal = sum((x.line_total for x in lines), ZERO)
    costs = {m.pk: m.cost_for(subtotal) for m in shipping_methods}
    quote = Quote(
        lines=lines,
        subtotal=subtotal,
        shipping_costs=costs,
        shipping_method_id=shipping_method_id,
        codes=list(codes),
    )
    context = PricingContext(
        user=user,
        email=email,
        lines=lines,
        subtotal=subtotal,
        shipping_cost=quote.shipping_cost,
        codes=list(codes),
        lock=lock,
    )
    exact: list[Discount] = []
    for provider in _PROVIDERS:
        found, problems = provider.discounts(context)
        exact += found
        quote.problems += problems
    goods = [d for d in exact if not d.on_shipping]
    shipping = [d for d in exact if d.on_shipping]
    quote.discounts = allocate_rounding(goods, cap=subtotal) + [
        Discount(
            code=d.code,
            label=d.label,
            amount=quote.shipping_cost,
            on_shipping=True,
            reference=d.reference,
            exact=quote.shipping_cost,
        )
        for d in shipping[:1]
    ]
    return quote, context
