"""What the CRM adds when ``personalization.segments`` is installed: the "CRM tag" segment rule,
the 360 section "Segments" (with entry dates), segment entries and exits in the timeline, the
dashboard panel "Segment sizes over time" and the "segment_members" export.

Imported only when the app is installed (``crm.core_sections._optional``), so the CRM works
without it and the section is simply absent.
"""

from django.db.models import Count, F, Q
from import_export import fields, resources

from . import charts, sections
from .timeline import annotate, kind


def _rule_class():
    from personalization.segments import rules

    class CrmTagRule(rules.Rule):
        """Customers who carry any of the given CRM tags (set by staff on the 360 page)."""

        type = "crm_tag"
        label = "CRM tag"
        help = '{"tags": ["vip", "wholesale"]}: tag slugs; any one of them is enough.'
        needs_profile = False  # a staff decision, not something learnt from behaviour

        def clean(self, params):
            from .models import Tag

            slugs = rules.clean_strings(params, "tags")
            known = set(Tag.objects.filter(slug__in=slugs).values_list("slug", flat=True))
            unknown = [s for s in slugs if s not in known]
            if unknown:
                raise rules.RuleError(f"No CRM tag {', '.join(unknown)} (see CRM › Tags).")
            return {"tags": slugs}

        def compile(self, params):
            from .models import CustomerTag

            return Q(
                pk__in=CustomerTag.objects.filter(tag__slug__in=params["tags"]).values("user_id")
            )

        def evaluate(self, ctx, params):
            from .models import CustomerTag

            key = ("crm_tags", ctx.user.pk)
            if key not in ctx.cache:
                ctx.cache[key] = set(
                    CustomerTag.objects.filter(user_id=ctx.user.pk).values_list(
                        "tag__slug", flat=True
                    )
                )
            return bool(ctx.cache[key] & set(params["tags"]))

        def explain(self, params):
            # tag names are internal notes ("Complained"): the shopper reads a neutral reason
            return "Our team added you to a customer group this offer is for"

    return CrmTagRule


def _section(*, customer, request):
    from personalization.segments.models import SegmentMembership, SegmentMembershipHistory

    memberships = list(
        SegmentMembership.objects.filter(user=customer)
        .select_related("segment")
        .order_by("-entered_at")[:20]
    )
    history = list(
        SegmentMembershipHistory.objects.filter(user=customer)
        .select_related("segment")
        .order_by("-at")[:10]
    )
    return {"memberships": memberships, "history": history}


def segment_sizes(*, start, end, limit: int = 5) -> dict | None:
    """Members of the largest segments at the end of each bucket, rebuilt backwards from today's
    count and the entry/exit history (one grouped query)."""
    from personalization.segments.models import Segment, SegmentMembershipHistory

    from .dashboard import _as_date, _bounds, _trunc, buckets

    segments = list(Segment.objects.order_by("-member_count", "pk")[:limit])
    if not segments:
        return None
    lo, _ = _bounds(start, end)
    unit, keys = buckets(start, end)
    rows = (
        SegmentMembershipHistory.objects.filter(segment__in=segments, at__gte=lo)
        .order_by()
        .annotate(b=_trunc(unit, "at"))
        .values("segment_id", "b")
        .annotate(
            entered=Count("pk", filter=Q(action="entered")),
            left=Count("pk", filter=Q(action="left")),
        )
    )
    net: dict[tuple[int, object], int] = {}
    for r in rows:
        net[(r["segment_id"], _as_date(r["b"]))] = r["entered"] - r["left"]
    series = {}
    for segment in segments:
        size = segment.member_count
        values = []
        # walk back from now: the size at the end of a bucket excludes changes after it
        later = sum(v for (sid, b), v in net.items() if sid == segment.pk and b > keys[-1])
        size -= later
        for key in reversed(keys):
            values.append(max(0, size))
            size -= net.get((segment.pk, key), 0)
        series[segment.name] = list(reversed(values))
    labels = [k.strftime("%-d %b") for k in keys]
    return {
        "segments": segments,
        "chart": charts.line_chart(title="Segment sizes", labels=labels, series=series),
        "rows": [(s.name, series[s.name][-1], s.member_count) for s in segments],
    }


class SegmentMemberResource(resources.Resource):
    segment = fields.Field(attribute="segment__slug", column_name="segment")
    email = fields.Field(attribute="user__email", column_name="email")
    entered_at = fields.Field(attribute="entered_at", column_name="entered_at")

    def get_queryset(self):
        from personalization.segments.models import SegmentMembership

        return SegmentMembership.objects.select_related("segment", "user").order_by("pk")


def register() -> None:
    from personalization.segments import rules
    from personalization.segments.models import SegmentMembershipHistory

    from .resources import register_resource

    rules.register(_rule_class())
    register_resource("segment_members", SegmentMemberResource)
    sections.register(
        key="segments",
        title="Segments",
        template="crm/sections/segments.html",
        context=_section,
        order=35,
        column="side",
    )
    sections.register_timeline(
        key="segments",
        queryset=lambda uid: annotate(
            SegmentMembershipHistory.objects.filter(user_id=uid),
            at="at",
            kind=kind("segment", "action"),
            summary=F("segment__name"),
        ),
        labels={"segment:entered": "Entered a segment", "segment:left": "Left a segment"},
    )
    sections.register_panel(
        key="segments",
        title="Segment sizes over time",
        template="crm/panels/segments.html",
        context=segment_sizes,
        order=30,
    )
