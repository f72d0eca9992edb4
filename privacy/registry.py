"""The registry of personal data: what every app holds about a shopper, how to export it, how to
erase it, and the decisions it takes about them.

Each app declares its models in a ``privacy.py`` module (found at start-up by
``PrivacyConfig.ready``) or from its ``AppConfig.ready()``::

    from privacy import registry
    from privacy.registry import Delete, Detach

    registry.register(
        "shop.Cart",
        kind="cart",
        description="Your shopping cart: what you added and when.",
        owner="user",
        fields={"created_at": "When the cart was started (UTC, ISO 8601)."},
        erase=Delete(),
    )

The export (``privacy.exporting``) writes one JSON file per ``kind`` with the documented
``fields`` (or what ``export`` returns) and a README built from the descriptions; the erasure
(``privacy.erasure``) applies each registration's ``erase`` strategy to the shopper's rows and
each ``references`` strategy to rows where the shopper appears in another role (staff actor,
"last poster" ...). ``tests/privacy/test_registry.py`` fails when a model with a foreign key or
one-to-one to the user, a GenericForeignKey, or an EmailField is not declared here (either
registered or exempted with a reason).

Decisions ("why"): features that store decisions about a shopper (banner chosen, coupon issued,
email held ...) call ``register_decisions(source, fn)``; ``fn(user, *, limit)`` returns
``Decision`` objects, newest first. The account's "Recent decisions" page merges them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import models

# --- erasure strategies ----------------------------------------------------------------------


class Strategy:
    """How the rows found through one user field are erased. ``apply`` returns rows touched."""

    label = "custom"

    def apply(self, queryset: models.QuerySet, *, field: str, user, options: ErasureOptions) -> int:
        raise NotImplementedError

    def describe(self) -> str:
        return self.label


@dataclass(frozen=True)
class Delete(Strategy):
    """Delete the rows (their own cascades follow)."""

    label = "deleted"

    def apply(self, queryset, *, field, user, options):
        return queryset.delete()[0]


@dataclass(frozen=True)
class Detach(Strategy):
    """Keep the rows without the shopper: set the user field to NULL and the ``clear`` fields to
    the given values (a value may be a callable taking the row's pk, for unique columns)."""

    clear: Mapping[str, Any] = field(default_factory=dict)
    label = "kept without your identity"

    def apply(self, queryset, *, field, user, options):
        values = {field: None, **{k: v for k, v in self.clear.items() if not callable(v)}}
        per_row = {k: v for k, v in self.clear.items() if callable(v)}
        if not per_row:
            return queryset.update(**values)
        count = 0
        for pk in list(queryset.values_list("pk", flat=True)):
            queryset.model._default_manager.filter(pk=pk).update(
                **values, **{k: v(pk) for k, v in per_row.items()}
            )
            count += 1
        return count


@dataclass(frozen=True)
class Anonymize(Strategy):
    """Keep the rows linked to the anonymized account ("former member") with ``values`` written
    over the identifying fields."""

    values: Mapping[str, Any] = field(default_factory=dict)
    label = "kept as a former member"

    def apply(self, queryset, *, field, user, options):
        plain = {k: v for k, v in self.values.items() if not callable(v)}
        per_row = {k: v for k, v in self.values.items() if callable(v)}
        if not per_row:
            return queryset.update(**plain) if plain else queryset.count()
        count = 0
        for pk in queryset.values_list("pk", flat=True):
            queryset.model._default_manager.filter(pk=pk).update(
                **plain, **{k: v(pk) for k, v in per_row.items()}
            )
            count += 1
        return count


@dataclass(frozen=True)
class Keep(Strategy):
    """Keep the rows as they are, for the stated reason (shown in the README and docs)."""

    reason: str = ""
    label = "kept"

    def apply(self, queryset, *, field, user, options):
        return 0

    def describe(self) -> str:
        return f"kept: {self.reason}"


@dataclass(frozen=True)
class Custom(Strategy):
    """Run ``fn(queryset, *, field, user, options) -> int`` (rows touched); ``label`` says what
    it does in plain words."""

    fn: Callable[..., int] = None  # type: ignore[assignment]
    label: str = "custom"

    def apply(self, queryset, *, field, user, options):
        return self.fn(queryset, field=field, user=user, options=options)


@dataclass(frozen=True)
class ErasureOptions:
    """What the shopper chose: ``keep_content`` keeps reviews, questions, answers and forum posts
    as "former member" instead of removing them. ``erasure_id`` names the erasure request."""

    keep_content: bool = False
    erasure_id: int | None = None


# --- registrations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """One model's personal data. See ``register`` for the meaning of each field."""

    label: str
    kind: str
    description: str
    owner: str | None
    fields: Mapping[str, str]
    erase: Strategy
    references: Mapping[str, Strategy]
    export: Callable[..., Iterable[dict]] | None
    activity_streams: Callable[..., Iterable[dict]] | None
    order: int
    covers: tuple[str, ...]
    rows: Callable[..., models.QuerySet] | None

    @property
    def exported(self) -> bool:
        return bool(self.fields) or self.export is not None

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    def rows_of(self, user) -> models.QuerySet:
        """The rows that are the shopper's own (through ``rows`` or ``owner``)."""
        if self.rows is not None:
            return self.rows(user)
        if self.owner is None:
            return self.model._default_manager.none()
        return self.model._default_manager.filter(**{self.owner: user.pk})

    def user_fields(self) -> set[str]:
        return ({self.owner} if self.owner else set()) | set(self.references) | set(self.covers)


@dataclass(frozen=True)
class Exemption:
    label: str
    reason: str


_registry: dict[str, Registration] = {}
_exempt: dict[str, Exemption] = {}
_decision_sources: dict[str, Callable[..., Iterable[Decision]]] = {}


class RegistryError(Exception):
    pass


def _label(model: str | type[models.Model]) -> str:
    if isinstance(model, str):
        app_label, _, name = model.partition(".")
        return f"{app_label}.{name}"
    return model._meta.label


def register(
    model: str | type[models.Model],
    *,
    kind: str,
    description: str,
    owner: str | None = "user",
    fields: Mapping[str, str] | None = None,
    erase: Strategy | None = None,
    references: Mapping[str, Strategy] | None = None,
    export: Callable[..., Iterable[dict]] | None = None,
    activity_streams: Callable[..., Iterable[dict]] | None = None,
    order: int = 100,
    covers: Iterable[str] = (),
    rows: Callable[..., models.QuerySet] | None = None,
) -> Registration:
    """Declare the personal data ``model`` ("app_label.Model" or the class) holds.

    - ``kind``: the export file's name (``<kind>.json``), unique across the registry.
    - ``description``: plain words for the shopper: what this is and why the store keeps it
      (the export README and the "How we use your data" page show it).
    - ``owner``: the field (a lookup, e.g. ``"cart__user"``) through which rows are the
      shopper's own; ``None`` when the model only mentions shoppers in ``references``.
    - ``fields``: exported field name -> its documentation (units, meaning). Values are read
      with ``QuerySet.values()``, so lookups such as ``"product__name"`` work. With neither
      ``fields`` nor ``export`` the model is erased but has no export file.
    - ``export``: ``fn(user) -> iterable of dicts`` instead of ``fields`` (``fields`` still
      documents the keys it returns).
    - ``erase``: the strategy for the shopper's own rows (default ``Delete()``).
    - ``references``: other user fields -> strategy, for rows where the shopper appears in
      another role (default for a nullable field: ``Detach()``).
    - ``activity_streams``: ``fn(user) -> iterable of ActivityStreams 2.0 activities``, written
      to ``activitystreams/<kind>.json``.
    - ``order``: erasure runs registrations by ascending order (children before parents).
    - ``rows``: ``fn(user) -> QuerySet`` of the shopper's rows, when a plain ``owner`` lookup
      cannot say it (e.g. admin history rows whose object is the shopper's account).
    - ``covers``: further user fields handled by this registration's own strategies (so the
      discovery test knows they are accounted for).

    Registering the same model twice raises ``RegistryError`` (a second app cannot silently
    replace the first's declaration); so does a ``kind`` already used.
    """
    label = _label(model)
    if label in _registry:
        raise RegistryError(f"{label} is already registered for privacy.")
    if any(r.kind == kind for r in _registry.values()):
        raise RegistryError(f"The export kind {kind!r} is already used.")
    registration = Registration(
        label=label,
        kind=kind,
        description=description,
        owner=owner,
        fields=dict(fields or {}),
        erase=erase or Delete(),
        references=dict(references or {}),
        export=export,
        activity_streams=activity_streams,
        order=order,
        covers=tuple(covers),
        rows=rows,
    )
    _registry[label] = registration
    return registration


def exempt(model: str | type[models.Model], *, reason: str) -> None:
    """Declare that ``model`` matches the discovery rule but holds nothing about a shopper
    (e.g. a GenericForeignKey that only ever points at products). The reason is required."""
    if not reason.strip():
        raise RegistryError("An exemption needs a reason.")
    _exempt[_label(model)] = Exemption(_label(model), reason)


def registrations() -> list[Registration]:
    """Every registration, in erasure order (``order``, then label)."""
    return sorted(_registry.values(), key=lambda r: (r.order, r.label))


def get(model: str | type[models.Model]) -> Registration | None:
    return _registry.get(_label(model))


def exemptions() -> dict[str, Exemption]:
    return dict(_exempt)


def unregister(model: str | type[models.Model]) -> None:
    """For tests only."""
    _registry.pop(_label(model), None)
    _exempt.pop(_label(model), None)


# --- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """One decision about a shopper, as stored when it was made.

    ``source`` names the feature (e.g. "Banners"), ``what`` what was decided in plain words
    ("Showed the banner 'Summer sale'"), ``why`` the stored reason ("You are in the segment
    'Sun seekers'"), ``at`` when (aware UTC datetime), ``url`` an optional link.
    """

    source: str
    what: str
    why: str
    at: datetime
    url: str = ""


def register_decisions(source: str, fn: Callable[..., Iterable[Decision]]) -> None:
    """Add a decision source: ``fn(user, *, limit: int) -> iterable of Decision``, newest first,
    at most ``limit``. It must read stored decision rows (never recompute a reason)."""
    _decision_sources[source] = fn


def decision_sources() -> dict[str, Callable[..., Iterable[Decision]]]:
    return dict(_decision_sources)


def recent_decisions(user, *, limit: int = 50) -> list[Decision]:
    """The newest ``limit`` decisions about ``user`` across every registered source."""
    found: list[Decision] = []
    for fn in _decision_sources.values():
        found.extend(fn(user, limit=limit))
    found.sort(key=lambda d: d.at, reverse=True)
    return found[:limit]


# --- retention -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    """A kind of data deleted after a number of days (``PRIVACY_RETENTION_DAYS[key]``)."""

    key: str
    label: str
    description: str
    purge: Callable[..., int]
    default_days: int | None

    def days(self) -> int | None:
        """Days kept, from ``settings.PRIVACY_RETENTION_DAYS`` (None: kept until erasure)."""
        from django.conf import settings

        configured = getattr(settings, "PRIVACY_RETENTION_DAYS", {})
        return configured.get(self.key, self.default_days)


_retention: dict[str, Retention] = {}


def register_retention(
    key: str,
    *,
    label: str,
    description: str,
    purge: Callable[..., int],
    default_days: int | None = None,
) -> Retention:
    """Declare a kind of data with a retention period.

    ``purge(*, before: datetime) -> int`` deletes (or anonymizes) what is older than ``before``
    and returns how many rows it touched; it must be idempotent and set-based. The period is
    ``settings.PRIVACY_RETENTION_DAYS[key]`` (``default_days`` when absent; None keeps the data
    until the account is erased). ``label`` and ``description`` appear on "How we use your
    data". The scheduled task ``privacy.tasks.purge_expired_data`` runs every purge daily.
    """
    entry = Retention(key, label, description, purge, default_days)
    _retention[key] = entry
    return entry


def retention_kinds() -> list[Retention]:
    return list(_retention.values())


# --- caches ----------------------------------------------------------------------------------

_cache_forgetters: dict[str, Callable[..., None]] = {}


def register_cache(name: str, forget: Callable[..., None]) -> None:
    """Declare a cache holding per-shopper data: ``forget(*, user_ids: list[int])`` drops the
    entries of those shoppers. Erasure (and staff tools) call every one."""
    _cache_forgetters[name] = forget


def cache_forgetters() -> dict[str, Callable[..., None]]:
    return dict(_cache_forgetters)


def unregister_decisions(source: str) -> None:
    """For tests only."""
    _decision_sources.pop(source, None)
