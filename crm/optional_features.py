"""The CRM sections of loyalty (tier and coupons) and outreach (emails sent, opened, clicked,
held back and why), registered only when those apps are installed (see docs/crm.md).

Both read the decision rows their apps store when they decide (a coupon's ``reason``, an outbox
message's ``rule`` and ``reason``), never a guess made later.
"""

from django.db.models import Count, F, Q, Value
from django.db.models.functions import Concat

from . import charts, sections
from .timeline import annotate, kind


def _loyalty(*, customer, request):
    from personalization.loyalty.models import Coupon, LoyaltyStatus

    status = LoyaltyStatus.objects.filter(user=customer).select_related("tier").first()
    coupons = list(Coupon.objects.filter(owner=customer).order_by("-created_at")[:10])
    return {"status": status, "coupons": coupons}


def _outreach(*, customer, request):
    from personalization.outreach.models import OutreachMessage

    counts = dict(
        OutreachMessage.objects.filter(user=customer)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    opened_clicked = OutreachMessage.objects.filter(user=customer).aggregate(
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
    )
    messages = list(
        OutreachMessage.objects.filter(user=customer)
        .select_related("campaign")
        .order_by("-created_at")[:15]
    )
    return {"counts": counts, **opened_clicked, "messages": messages}


def campaign_performance(*, start, end, limit: int = 8) -> dict | None:
    """Per campaign with messages made in the range: sent, opened, clicked, held (one query)."""
    from personalization.outreach.models import OutreachMessage

    from .dashboard import _bounds

    lo, hi = _bounds(start, end)
    rows = list(
        OutreachMessage.objects.filter(created_at__gte=lo, created_at__lt=hi)
        .order_by()
        .values("campaign_id", name=F("campaign__name"))
        .annotate(
            messages=Count("pk"),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
            held=Count("pk", filter=Q(status="dropped")),  # held back by a rule
        )
        .order_by("-messages", "campaign_id")[:limit]
    )
    if not rows:
        return {"rows": [], "chart": ""}
    items = [(r["name"], r["opened"]) for r in rows]
    if not any(opened for _, opened in items):  # bars of nothing: the table says it
        return {"rows": rows, "chart": ""}
    return {"rows": rows, "chart": charts.bar_chart(title="Emails opened by campaign", items=items)}


def register_loyalty() -> None:
    from personalization.loyalty.models import Coupon

    sections.register(
        key="loyalty",
        title="Loyalty: tier and coupons",
        template="crm/sections/loyalty.html",
        context=_loyalty,
        order=40,
        column="side",
        permission="loyalty.view_coupon",
    )
    sections.register_timeline(
        key="coupons",
        queryset=lambda uid: annotate(
            Coupon.objects.filter(owner_id=uid),
            at="created_at",
            kind=kind("coupon", fixed="issued"),
            summary=Concat(F("code"), Value(": "), F("reason")),
        ),
        labels={"coupon:issued": "Coupon issued"},
    )


def register_outreach() -> None:
    from personalization.outreach.models import OutreachMessage

    sections.register(
        key="outreach",
        title="Emails: sent, opened, clicked, held back",
        template="crm/sections/outreach.html",
        context=_outreach,
        order=45,
        permission="outreach.view_outreachmessage",
    )
    sections.register_timeline(
        key="outreach",
        queryset=lambda uid: annotate(
            OutreachMessage.objects.filter(user_id=uid),
            at="created_at",
            kind=kind("email", "status"),
            summary=Concat(F("campaign__name"), Value(" "), F("reason")),
        ),
        labels={
            "email:planned": "Email planned",
            "email:sent": "Email sent",
            "email:dropped": "Email held back",
            "email:bounced": "Email bounced",
            "email:failed": "Email failed",
        },
    )
    sections.register_panel(
        key="campaigns",
        title="Campaign performance",
        template="crm/panels/campaigns.html",
        context=campaign_performance,
        order=35,
    )
