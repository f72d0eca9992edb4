"""The CRM dashboard's data: one function per panel, each a few grouped queries over a range.

Buckets are days for ranges up to 62 days, ISO weeks (starting Monday) beyond. Dates are UTC.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from . import charts, sections


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    from datetime import UTC as _utc

    return (
        datetime.combine(start, time.min, tzinfo=_utc),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=_utc),
    )


def buckets(start: date, end: date) -> tuple[str, list[date]]:
    """("day" | "week", the bucket start dates covering [start, end])."""
    if (end - start).days <= 62:
        return "day", [start + timedelta(days=i) for i in range((end - start).days + 1)]
    first = start - timedelta(days=start.weekday())
    weeks = []
    while first <= end:
        weeks.append(first)
        first += timedelta(days=7)
    return "week", weeks


def _trunc(unit: str, field: str):
    from datetime import UTC as _utc

    return (TruncDate if unit == "day" else TruncWeek)(field, tzinfo=_utc)


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def sales(*, start: date, end: date) -> dict:
    """Revenue and order count per bucket (cancelled and refunded orders excluded)."""
    from shop.models import Order

    lo, hi = _bounds(start, end)
    unit, keys = buckets(start, end)
    rows = (
        Order.objects.filter(created_at__gte=lo, created_at__lt=hi)
        .exclude(status__in=[Order.Status.CANCELLED, Order.Status.REFUNDED])
        .order_by()
        .annotate(b=_trunc(unit, "created_at"))
        .values("b")
        .annotate(revenue=Sum("total"), orders=Count("pk"))
    )
    by = {_as_date(r["b"]): r for r in rows}
    revenue = [float(by.get(k, {}).get("revenue") or 0) for k in keys]
    orders = [by.get(k, {}).get("orders", 0) for k in keys]
    labels = [k.strftime("%-d %b") for k in keys]
    return {
        "unit": unit,
        "total": Decimal(str(sum(revenue))).quantize(Decimal("0.01")),
        "orders": sum(orders),
        "rows": list(zip(labels, revenue, orders, strict=True)),
        "chart": charts.line_chart(
            title=f"Sales per {unit}", labels=labels, series={"Revenue": revenue}
        ),
    }


def new_and_returning(*, start: date, end: date) -> dict:
    """Customers who ordered in each bucket: new (their first order ever) or returning."""
    from shop.models import Order

    lo, hi = _bounds(start, end)
    unit, keys = buckets(start, end)
    first_order = (
        Order.objects.filter(user=OuterRef("user")).order_by("created_at").values("created_at")[:1]
    )
    rows = (
        Order.objects.filter(created_at__gte=lo, created_at__lt=hi, user__isnull=False)
        .order_by()
        .annotate(first=Subquery(first_order), b=_trunc(unit, "created_at"))
        .values("b")
        .annotate(
            buyers=Count("user", distinct=True),
            new=Count("user", distinct=True, filter=Q(created_at=F("first"))),
        )
    )
    new = {_as_date(r["b"]): r["new"] for r in rows}
    all_buyers = {_as_date(r["b"]): r["buyers"] for r in rows}
    new_series = [new.get(k, 0) for k in keys]
    returning = [max(0, all_buyers.get(k, 0) - new.get(k, 0)) for k in keys]
    labels = [k.strftime("%-d %b") for k in keys]
    return {
        "new": sum(new_series),
        "returning": sum(returning),
        "rows": list(zip(labels, new_series, returning, strict=True)),
        "chart": charts.line_chart(
            title="New and returning customers",
            labels=labels,
            series={"New": new_series, "Returning": returning},
        ),
    }


def sentiment(*, start: date, end: date) -> dict:
    """Average sentiment (VADER compound, -1..1) of reviews and forum posts per bucket."""
    from social.forums.models import Post
    from social.reviews.models import Review

    lo, hi = _bounds(start, end)
    unit, keys = buckets(start, end)
    totals: dict[date, list[float]] = {}
    for model in (Review, Post):
        rows = (
            model.objects.filter(created_at__gte=lo, created_at__lt=hi, sentiment__isnull=False)
            .order_by()
            .annotate(b=_trunc(unit, "created_at"))
            .values("b")
            .annotate(s=Sum("sentiment"), n=Count("pk"))
        )
        for r in rows:
            acc = totals.setdefault(_as_date(r["b"]), [0.0, 0])
            acc[0] += r["s"]
            acc[1] += r["n"]
    series = [round(totals[k][0] / totals[k][1], 3) if k in totals else 0.0 for k in keys]
    labels = [k.strftime("%-d %b") for k in keys]
    count = sum(v[1] for v in totals.values())
    return {
        "count": count,
        "rows": [(label, v) for label, v in zip(labels, series, strict=True)],
        "chart": charts.line_chart(
            title="Average sentiment of reviews and posts",
            labels=labels,
            series={"Sentiment": series},
        ),
    }


def liked_and_shared(*, start: date, end: date, limit: int = 8) -> dict:
    """Products liked most (likes made in the range) and shared most (share links made)."""
    from django.contrib.contenttypes.models import ContentType

    from shop.models import Product
    from social.engagement.models import Like, ShareLink

    lo, hi = _bounds(start, end)
    product_type = ContentType.objects.get_for_model(Product)
    liked = list(
        Like.objects.filter(content_type=product_type, created_at__gte=lo, created_at__lt=hi)
        .order_by()
        .values("object_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "object_id")[:limit]
    )
    shared = list(
        ShareLink.objects.filter(content_type=product_type, created_at__gte=lo, created_at__lt=hi)
        .order_by()
        .values("object_id")
        .annotate(n=Sum("shares"))
        .order_by("-n", "object_id")[:limit]
    )
    ids = {r["object_id"] for r in liked + shared}
    names = dict(Product.objects.filter(pk__in=ids).values_list("pk", "name"))
    liked_items = [(names.get(r["object_id"], "(gone)"), r["n"]) for r in liked]
    shared_items = [(names.get(r["object_id"], "(gone)"), r["n"] or 0) for r in shared]
    return {
        "liked": liked_items,
        "shared": shared_items,
        "liked_chart": charts.bar_chart(title="Most liked products", items=liked_items),
        "shared_chart": charts.bar_chart(title="Most shared products", items=shared_items),
    }


def top_intents(*, start: date, end: date, limit: int = 8) -> dict:
    """Purchase intents read from shoppers' text in the range, by intent and category."""
    from personalization.models import Event
    from shop.models import Category

    lo, hi = _bounds(start, end)
    rows = list(
        Event.objects.filter(
            kind=Event.Kind.TEXT_SIGNAL,
            occurred_at__gte=lo,
            occurred_at__lt=hi,
            attributes__has_key="intent",
        )
        .order_by()
        .values(intent=F("attributes__intent"), category=F("attributes__category_id"))
        .annotate(n=Count("pk"))
        .order_by("-n")[:limit]
    )
    names = dict(
        Category.objects.filter(pk__in=[r["category"] for r in rows if r["category"]]).values_list(
            "pk", "name"
        )
    )
    items = [(f"{r['intent']}: {names.get(r['category'], 'any category')}", r["n"]) for r in rows]
    return {"items": items, "chart": charts.bar_chart(title="Top intents", items=items)}


def open_tasks_summary(*, start: date, end: date) -> dict:
    from .models import Task

    today = timezone.now().date()
    qs = Task.objects.filter(done_at__isnull=True)
    counts = qs.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
    return {
        **counts,
        "tasks": list(qs.select_related("customer", "assignee").order_by("due_on", "pk")[:8]),
    }


def register_core_panels() -> None:
    for key, title, fn, order in [
        ("sales", "Sales", sales, 10),
        ("customers", "New and returning customers", new_and_returning, 20),
        ("sentiment", "Sentiment over time", sentiment, 40),
        ("liked", "Most liked and shared products", liked_and_shared, 50),
        ("intents", "Top intents", top_intents, 60),
        ("tasks", "Open tasks", open_tasks_summary, 70),
    ]:
        sections.register_panel(
            key=key, title=title, template=f"crm/panels/{key}.html", context=fn, order=order
        )
