"""Invariants the store must keep under any load, checked against any database (issue 16).

``check_all()`` runs every check read-only (selects only) and returns one ``Result`` per
check: its name, the number of rows that break it, and a few examples. ``manage.py
check_consistency`` prints them and exits 1 when any check fails; ``make soak`` runs it after
the load.

Some invariants need a starting point: stock is only *conserved* between two moments. A
``Baseline`` (``manage.py check_consistency --save-baseline FILE``, taken before the load) holds
every variant's stock, the highest order id and the time; given one, the checks also prove
``stock now = stock then − units sold since + units restocked since`` and that every order
placed since has its purchase events and its confirmation. Without one they check what holds
for all time.

Sources of the rules: the order's CHECK constraints (``shop.models.Order``), restocking on
cancel/refund from paid or processing (``shop.services.order_set_status``), one purchase event
per order line (``shop.checkout.order_place``), the coupon caps (``personalization.loyalty``),
the denormalised review counters (``social.reviews.services``) and forum counters
(``social.forums.services``).
"""

import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Order, OrderLine, Variant

EXAMPLES = 5
#: A confirmation still owed after this long means the sweep is not running.
CONFIRMATION_GRACE = timedelta(minutes=15)


@dataclass
class Result:
    name: str
    violations: int
    examples: list = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return self.violations == 0


@dataclass
class Baseline:
    """Stock per variant id, the highest order id and the time, before a load."""

    taken_at: str
    max_order_id: int
    stock: dict[str, int]

    @classmethod
    def take(cls) -> "Baseline":
        return cls(
            taken_at=timezone.now().isoformat(),
            max_order_id=Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
            stock={str(pk): s for pk, s in Variant.objects.values_list("pk", "stock")},
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: str | Path) -> "Baseline":
        return cls(**json.loads(Path(path).read_text()))


def _result(name: str, qs, *, checked: int = 0, fields=("pk",)) -> Result:
    rows = list(qs.values(*fields)[:EXAMPLES])
    count = qs.count() if rows else 0
    return Result(name, count, [{k: str(v) for k, v in row.items()} for row in rows], checked)


def stock_never_negative() -> Result:
    return _result(
        "stock is never negative",
        Variant.objects.filter(stock__lt=0),
        checked=Variant.objects.count(),
        fields=("pk", "sku", "stock"),
    )


def stock_balance(baseline: Baseline) -> Result:
    """stock now = stock at the baseline − units in orders placed since + units of those orders
    restocked (cancelled or refunded: the soak changes no older order's status)."""
    live = ~Q(order__status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED])
    sold = dict(
        OrderLine.objects.filter(live, order_id__gt=baseline.max_order_id)
        .values("variant_id")
        .annotate(units=Sum("quantity"))
        .values_list("variant_id", "units")
    )
    examples, violations = [], 0
    for pk, stock in Variant.objects.values_list("pk", "stock").order_by("pk"):
        before = baseline.stock.get(str(pk))
        if before is None:
            continue  # created after the baseline
        expected = before - sold.get(pk, 0)
        if stock != expected:
            violations += 1
            if len(examples) < EXAMPLES:
                examples.append({"variant": pk, "stock": stock, "expected": expected})
    return Result("stock = initial − sold + restocked", violations, examples, len(baseline.stock))


def one_order_per_payment() -> Result:
    """Every approved payment (gateway reference) belongs to exactly one order."""
    dupes = (
        Order.objects.exclude(payment_reference="")
        .values("payment_reference")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    return Result(
        "every approved payment has exactly one order",
        dupes.count(),
        [dict(d) for d in dupes[:EXAMPLES]],
        Order.objects.count(),
    )


def order_totals_add_up() -> Result:
    """subtotal = Σ line totals and total = subtotal + shipping − discounts."""
    line_sum = Subquery(
        OrderLine.objects.filter(order=OuterRef("pk"))
        .values("order")
        .annotate(s=Sum("line_total"))
        .values("s")
    )
    qs = Order.objects.annotate(lines_total=Coalesce(line_sum, Value(Decimal("0")))).filter(
        ~Q(subtotal=F("lines_total"))
        | ~Q(total=F("subtotal") + F("shipping_cost") - F("discount_total"))
    )
    return _result(
        "order totals add up",
        qs,
        checked=Order.objects.count(),
        fields=("number", "subtotal", "lines_total", "total"),
    )


def purchase_events_recorded(since_order_id: int = 0) -> Result:
    """Every order line placed (since the baseline) has its ``purchase`` event."""
    from personalization.models import Event

    event = Event.objects.annotate(order_number=KT("attributes__order")).filter(
        kind=Event.Kind.PURCHASE,
        product_id=OuterRef("product_id"),
        order_number=OuterRef("order__number"),
    )
    lines = OrderLine.objects.filter(order_id__gt=since_order_id)
    return _result(
        "events recorded for every order line",
        lines.filter(~Exists(event)),
        checked=lines.count(),
        fields=("order__number", "product_id"),
    )


def confirmations_sent(since_order_id: int = 0, *, grace: timedelta = CONFIRMATION_GRACE) -> Result:
    """No order confirmation is owed for longer than ``grace`` (the sweep sends them)."""
    qs = Order.objects.filter(
        pk__gt=since_order_id,
        confirmation_due=True,
        created_at__lt=timezone.now() - grace,
    )
    return _result("order confirmations sent", qs, fields=("number", "created_at"))


def coupon_uses_within_limits() -> Result:
    """uses ≤ max_uses, uses = redemptions and Σ per-shopper uses = redemptions."""
    from personalization.loyalty.models import Coupon, CouponRedemption, CouponUsage

    redemptions = Subquery(
        CouponRedemption.objects.filter(coupon=OuterRef("pk"))
        .values("coupon")
        .annotate(n=Count("pk"))
        .values("n")
    )
    per_shopper = Subquery(
        CouponUsage.objects.filter(coupon=OuterRef("pk"))
        .values("coupon")
        .annotate(n=Sum("uses"))
        .values("n")
    )
    qs = Coupon.objects.annotate(
        redeemed=Coalesce(redemptions, 0), shopper_uses=Coalesce(per_shopper, 0)
    ).filter(
        Q(max_uses__isnull=False, uses__gt=F("max_uses"))
        | ~Q(uses=F("redeemed"))
        | ~Q(shopper_uses=F("redeemed"))
    )
    return _result(
        "coupon uses = redemptions, within limits",
        qs,
        checked=Coupon.objects.count(),
        fields=("code", "uses", "redeemed", "shopper_uses", "max_uses"),
    )


def review_counters_match() -> Result:
    """Product rating_count = approved reviews; review helpful_count = helpful votes."""
    from social.reviews.models import HelpfulVote, Review

    from .models import Product

    approved = Subquery(
        Review.objects.filter(product=OuterRef("pk"), status=Review.Status.APPROVED)
        .values("product")
        .annotate(n=Count("pk"))
        .values("n")
    )
    products = Product.objects.annotate(n=Coalesce(approved, 0)).exclude(rating_count=F("n"))
    votes = Subquery(
        HelpfulVote.objects.filter(review=OuterRef("pk"))
        .values("review")
        .annotate(n=Count("pk"))
        .values("n")
    )
    reviews = Review.objects.annotate(n=Coalesce(votes, 0)).exclude(helpful_count=F("n"))
    result = _result(
        "review counters = rows",
        products,
        checked=Product.objects.count(),
        fields=("pk", "rating_count", "n"),
    )
    extra = _result("helpful", reviews, fields=("pk", "helpful_count", "n"))
    result.violations += extra.violations
    result.examples += extra.examples
    return result


def forum_counters_match() -> Result:
    """Topic post_count = its posts (every post numbered, deleted ones included)."""
    from social.forums.models import Post, Topic

    posts = Subquery(
        Post.objects.filter(topic=OuterRef("pk"))
        .values("topic")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = Topic.objects.annotate(n=Coalesce(posts, 0)).exclude(post_count=F("n"))
    return _result(
        "forum post counts = posts",
        qs,
        checked=Topic.objects.count(),
        fields=("pk", "post_count", "n"),
    )


def likes_unique() -> Result:
    """At most one like per shopper and item (the like count shown is the number of rows)."""
    from social.engagement.models import Like

    dupes = (
        Like.objects.values("user", "content_type", "object_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    return Result(
        "like counts = like rows (one per shopper)",
        dupes.count(),
        [dict(d) for d in dupes[:EXAMPLES]],
        Like.objects.count(),
    )


def outbox_sent_once() -> Result:
    """No outreach message is sent twice: one per campaign and shopper, one per message id."""
    from personalization.outreach.models import OutreachMessage

    sent = OutreachMessage.objects.filter(sent_at__isnull=False)
    dupes = sent.values("campaign", "user").annotate(n=Count("pk")).filter(n__gt=1)
    return Result(
        "outbox has no duplicate sends",
        dupes.count(),
        [dict(d) for d in dupes[:EXAMPLES]],
        sent.count(),
    )


def check_all(baseline: Baseline | None = None) -> list[Result]:
    """Every check, in a fixed order; read-only."""
    since = baseline.max_order_id if baseline else 0
    results = [
        stock_never_negative(),
        one_order_per_payment(),
        order_totals_add_up(),
        purchase_events_recorded(since),
        confirmations_sent(since),
        coupon_uses_within_limits(),
        review_counters_match(),
        forum_counters_match(),
        likes_unique(),
        outbox_sent_once(),
    ]
    if baseline is not None:
        results.insert(1, stock_balance(baseline))
    return results
