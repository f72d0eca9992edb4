"""The customer 360 page is built from sections that apps register.

A feature adds its section from its ``AppConfig.ready()`` (or the CRM registers it when the
feature's app is installed), so a feature that is not installed is simply absent::

    from crm import sections

    sections.register(
        key="loyalty",
        title="Loyalty",
        template="loyalty/crm_section.html",   # gets `customer`, `data`, `request`
        context=lambda *, customer, request: {"tier": ..., "coupons": [...]},
        order=60,
        column="main",                          # "main" (wide) or "side"
        permission="loyalty.view_coupon",       # optional: hidden from staff without it
    )

``context`` must run a constant number of queries whatever the customer's history (the 360
page's query-count test counts every section), and return ``None`` to hide the section.
Timeline rows come from a second registry, ``register_timeline``: a function
``(user_id) -> QuerySet`` annotated with ``t_at``, ``t_kind``, ``t_summary`` (see
``crm.timeline``). Dashboard panels use ``register_panel`` the same way.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    template: str
    context: Callable[..., dict | None]
    order: int = 50
    column: str = "main"
    permission: str = ""


@dataclass(frozen=True)
class TimelineSource:
    key: str
    queryset: Callable[[int], object]  # user_id -> annotated QuerySet
    labels: dict  # t_kind -> words shown


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    context: Callable[..., dict | None]  # (*, start, end) -> dict or None to hide
    order: int = 50


_sections: dict[str, Section] = {}
_timeline: dict[str, TimelineSource] = {}
_panels: dict[str, Panel] = {}


def register(
    *,
    key: str,
    title: str,
    template: str,
    context: Callable[..., dict | None],
    order: int = 50,
    column: str = "main",
    permission: str = "",
) -> None:
    """Add (or replace) the 360 section ``key``."""
    if column not in {"main", "side"}:
        raise ValueError("column must be 'main' or 'side'")
    _sections[key] = Section(key, title, template, context, order, column, permission)


def unregister(key: str) -> None:
    _sections.pop(key, None)


def sections() -> list[Section]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.key))


def register_timeline(*, key: str, queryset: Callable[[int], object], labels: dict) -> None:
    """Add a source of timeline rows (see ``crm.timeline`` for the row shape)."""
    _timeline[key] = TimelineSource(key, queryset, dict(labels))


def timeline_sources() -> list[TimelineSource]:
    return list(_timeline.values())


def register_panel(
    *, key: str, title: str, template: str, context: Callable[..., dict | None], order: int = 50
) -> None:
    """Add a dashboard panel: ``context(start=date, end=date)`` returns its data or None."""
    _panels[key] = Panel(key, title, template, context, order)


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda p: (p.order, p.key))


def filled(*, customer, request) -> dict[str, list[dict]]:
    """The sections the staff member in ``request`` may see, with their data, by column."""
    columns: dict[str, list[dict]] = {"main": [], "side": []}
    for section in sections():
        if section.permission and not request.user.has_perm(section.permission):
            continue
        data = section.context(customer=customer, request=request)
        if data is None:
            continue
        columns[section.column].append({"section": section, "data": data})
    return columns
