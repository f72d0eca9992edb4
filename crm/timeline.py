"""One timeline of everything a customer did and what staff did about them, newest first.

Each registered source (``crm.sections.register_timeline``) returns a QuerySet of the rows its
app already writes (events, order events, consent records, notes ...), annotated with exactly
three columns in this order: ``t_at`` (datetime), ``t_kind`` (text, ``"<source>:<kind>"``) and
``t_summary`` (text). The sources are joined with ``UNION ALL`` and sorted and sliced by
PostgreSQL, so a page costs one query per source (its count) and one for the rows, however long the
history is; each source reads only its newest rows up to the page asked for.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import CharField, DateTimeField, F, Value
from django.db.models.functions import Cast, Coalesce, Concat, Left

from . import sections

PAGE_SIZE = 25


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    label: str
    summary: str


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    number: int
    pages: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def annotate(queryset, *, at, kind, summary):
    """Shape a QuerySet as timeline rows: ``at`` a field name, ``kind``/``summary`` expressions."""
    return queryset.annotate(
        t_at=Cast(F(at), DateTimeField()),
        t_kind=Cast(kind, CharField()),
        t_summary=Cast(Left(Coalesce(summary, Value("")), 200), CharField()),
    ).values_list("t_at", "t_kind", "t_summary")


def kind(source: str, field: str | None = None, fixed: str | None = None):
    """``"<source>:<field value>"`` or ``"<source>:<fixed>"`` as an SQL expression."""
    if fixed is not None:
        return Value(f"{source}:{fixed}")
    return Concat(Value(f"{source}:"), F(field), output_field=CharField())


def _union(user_id: int, *, limit: int | None = None):
    """All sources joined with UNION ALL. With ``limit``, each source contributes only its
    newest ``limit`` rows (its own ORDER BY … LIMIT uses the source's (user, time) index), so
    page n reads at most n pages of each source instead of the whole history."""
    # no model ordering inside the compound (SQLite refuses ORDER BY in its parts)
    querysets = [source.queryset(user_id).order_by() for source in sections.timeline_sources()]
    if not querysets:
        return None
    if limit is not None and connection.features.supports_slicing_ordering_in_compound:
        querysets = [qs.order_by("-t_at")[:limit] for qs in querysets]
    first, *rest = querysets
    return first.union(*rest, all=True) if rest else first


def _labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for source in sections.timeline_sources():
        labels.update(source.labels)
    return labels


def timeline_page(*, user_id: int, page: int = 1, page_size: int = PAGE_SIZE) -> Page:
    """Page ``page`` (from 1; out-of-range numbers are clamped) of the customer's timeline.

    One count per source and one query for the rows, whatever the history's length. Entries
    tie-break by kind for a stable order.
    """
    sources = [source.queryset(user_id) for source in sections.timeline_sources()]
    if not sources:
        return Page([], 1, 1, 0)
    total = sum(qs.count() for qs in sources)
    pages = max(1, -(-total // page_size))
    number = min(max(1, page), pages)
    offset = (number - 1) * page_size
    union = _union(user_id, limit=offset + page_size)
    rows = list(union.order_by("-t_at", "t_kind")[offset : offset + page_size])
    labels = _labels()
    entries = [
        Entry(at=at, kind=k, label=labels.get(k, k.partition(":")[2].replace("_", " ")), summary=s)
        for at, k, s in rows
    ]
    return Page(entries, number, pages, total)
