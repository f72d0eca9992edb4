"""Building preference profiles from the event log: full, incremental and per shopper.

Guarantees:
- A build is one transaction: profiles, the watermark and the run log commit together or not
  at all, so a retry, a duplicate run or a worker killed mid-run leaves the profiles exactly as
  one clean run would.
- Builds are serialised by a row lock on the watermark; an incremental build that finds another
  build running does nothing (the next scheduled run picks the events up).
- Events are added to profiles only once all transactions that might still insert events below
  the new watermark have finished (PostgreSQL: a brief SHARE lock on the event table), so no
  event is skipped because its id was handed out before a later one committed.
- An incremental build gives the same profiles as a full rebuild over the same events.

On PostgreSQL the bulk path is set-based SQL (``profile_sql``); elsewhere (SQLite, the embedded
demo) the same arithmetic runs in Python, ``aggregate_python``, which the tests also use to
cross-check the SQL.
"""

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from . import profile_sql
from .consent import refresh_demographics
from .models import (
    Event,
    PreferenceProfile,
    ProfileBuildRun,
    ProfileBuildState,
    RemovedInterest,
    ShopperChoice,
)

DIMENSIONS = ("category", "brand", "colour", "size", "style", "price_band")


class BuildBusy(Exception):
    """Another build holds the watermark; try again later."""


@dataclass
class BuildResult:
    mode: str
    from_event: int
    to_event: int
    profiles: int
    seconds: float
    changed_user_ids: list[int] = field(default_factory=list, repr=False)
    skipped: bool = False


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# --- parameters ------------------------------------------------------------------------------


def decay_epoch() -> datetime:
    return datetime.fromisoformat(settings.PERSONALIZATION_DECAY_EPOCH)


def half_life_seconds() -> float:
    return float(settings.PERSONALIZATION_HALF_LIFE_DAYS) * 86400.0


def event_weights() -> dict[str, float]:
    """PERSONALIZATION_EVENT_WEIGHTS, with ``unlike`` weighing minus ``like`` unless set.

    An ``unlike`` event is dated at the like it withdraws (see social.engagement.services), so
    the two cancel exactly: a withdrawn like stops counting, in incremental and full builds.
    """
    weights = {
        kind: float(weight) for kind, weight in settings.PERSONALIZATION_EVENT_WEIGHTS.items()
    }
    if "like" in weights:
        weights.setdefault("unlike", -weights["like"])
    return weights


def decay_factor(at: datetime) -> float:
    """Multiply a stored raw score by this to get its value at ``at``."""
    return 2.0 ** (-(at - decay_epoch()).total_seconds() / half_life_seconds())


# --- watermark -------------------------------------------------------------------------------


def settled_high_water() -> int:
    """The highest event id below which every event is committed (see module docstring)."""
    with transaction.atomic():
        if is_postgres():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '10s'")
                cursor.execute("LOCK TABLE personalization_event IN SHARE MODE")
        return Event.objects.aggregate(top=Max("id"))["top"] or 0


def _lock_state(*, wait: bool) -> ProfileBuildState:
    ProfileBuildState.objects.get_or_create(pk=1)
    if wait:
        if is_postgres():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '60s'")
        return ProfileBuildState.objects.select_for_update().get(pk=1)
    state = ProfileBuildState.objects.select_for_update(skip_locked=True).filter(pk=1).first()
    if state is None:
        raise BuildBusy("A profile build is already running.")
    return state


# --- the builds ------------------------------------------------------------------------------


def build_incremental() -> BuildResult:
    """Fold events above the watermark into the stored profiles."""
    hi = settled_high_water()
    started = time.perf_counter()
    with transaction.atomic():
        try:
            state = _lock_state(wait=False)
        except BuildBusy:
            return BuildResult("incremental", 0, 0, 0, 0.0, skipped=True)
        lo = state.watermark
        if hi <= lo:
            return BuildResult("incremental", lo, lo, 0, 0.0, skipped=True)
        _built, changed = _aggregate_and_write(lo=lo, hi=hi, user_id=None, add=True)
        return _finish(state, "incremental", lo, hi, changed, started)


def build_full() -> BuildResult:
    """Rebuild every profile from all events (demographics are refreshed from consents)."""
    hi = settled_high_water()
    started = time.perf_counter()
    with transaction.atomic():
        state = _lock_state(wait=True)
        hi = max(hi, state.watermark)
        built, changed = _aggregate_and_write(lo=0, hi=hi, user_id=None, add=False)
        if not is_postgres():  # the SQL write clears them in the same pass (FULL_CLEARED)
            changed |= _zero_profiles_without_events(built)
        changed |= refresh_demographics(user_ids=None)
        _delete_empty_profiles(among=changed)
        state.last_full_build_at = timezone.now()
        return _finish(state, "full", 0, hi, changed, started)


def build_user(*, user_id: int) -> BuildResult:
    """Rebuild one shopper from their events up to the watermark, and their demographics."""
    started = time.perf_counter()
    with transaction.atomic():
        state = _lock_state(wait=True)
        hi = state.watermark
        built, _changed = _aggregate_and_write(lo=0, hi=hi, user_id=user_id, add=False)
        if not built:
            _zero_profiles_without_events(set(), user_id=user_id)
        refresh_demographics(user_ids=[user_id])
        _delete_empty_profiles(among={user_id})
        return _finish(state, "shopper", 0, hi, {user_id}, started, move_watermark=False)


_EVENT_FIELDS_EMPTY = {
    "affinity_ids": [],
    "affinity_raw": [],
    "event_count": 0,
    "first_event_at": None,
    "last_event_at": None,
    "order_count": 0,
    "monetary": Decimal("0"),
    "last_purchase_at": None,
    "first_purchase_at": None,
    "sentiment_sum": 0.0,
    "sentiment_count": 0,
    "intents": {},
}


def _zero_profiles_without_events(built: set[int], *, user_id: int | None = None) -> set[int]:
    """Clear the event-built part of profiles that the build did not produce (keep consents);
    returns their ids. (A full build on PostgreSQL does this in its write: ``FULL_CLEARED``.)"""
    profiles = PreferenceProfile.objects.all()
    if user_id is not None:
        profiles = profiles.filter(user_id=user_id)
    else:
        profiles = profiles.exclude(user_id__in=built)
    cleared = set(profiles.values_list("user_id", flat=True))
    profiles.update(**_EVENT_FIELDS_EMPTY, updated_at=timezone.now())
    return cleared


def _delete_empty_profiles(*, among: set[int]) -> None:
    """Delete, among the given shoppers' profiles, those left with neither events nor
    demographics, and those of shoppers who turned personalization off.

    ``among`` is what the build wrote or found empty: a profile can only have become empty
    there, so the build never scans the whole profile table for empty rows.
    """
    if not among:
        return
    if is_postgres():
        with connection.cursor() as cursor:
            # (opted-out shoppers' profiles went in the write: DELETE_OPTED_OUT)
            cursor.execute(profile_sql.DELETE_EMPTY, {"user_ids": sorted(among)})
        return
    PreferenceProfile.objects.filter(
        Q(event_count=0, demographics={})
        | Q(
            user_id__in=ShopperChoice.objects.filter(personalization_enabled=False).values(
                "user_id"
            )
        ),
        user_id__in=among,
    ).delete()


def _finish(state, mode, lo, hi, changed, started, *, move_watermark=True) -> BuildResult:
    if move_watermark:
        state.watermark = hi
    state.updated_at = timezone.now()
    state.save()
    seconds = time.perf_counter() - started
    ProfileBuildRun.objects.create(
        mode=mode, from_event=lo, to_event=hi, profiles=len(changed), seconds=seconds
    )
    changed = sorted(changed)
    from .selectors import profile_cache_forget

    transaction.on_commit(lambda: profile_cache_forget(user_ids=changed))
    return BuildResult(mode, lo, hi, len(changed), seconds, changed)


def _aggregate_and_write(
    *, lo: int, hi: int, user_id: int | None, add: bool
) -> tuple[set[int], set[int]]:
    """Aggregate events (lo, hi] and write them.

    Returns ``(built, changed)``: the shoppers the events produced a row for (not listed by a
    full build on PostgreSQL, whose write finds the profiles without events itself: empty),
    and the profiles this wrote (a replacing build on PostgreSQL skips those it would leave as
    they were), which are the ones whose cached copies are stale.
    """
    if is_postgres():
        return _write_sql(lo=lo, hi=hi, user_id=user_id, add=add)
    aggregates = aggregate_python(lo=lo, hi=hi, user_id=user_id)
    written = _write_python(aggregates, add=add)
    return written, written


ANALYZE_ABOVE_EVENTS = 100_000
# A build of more events than ANALYZE_ABOVE_EVENTS sums the affinities in this many parts, in
# parallel workers when PostgreSQL has them free (see ``profile_sql.AGGREGATE``).
AFFINITY_PARTS = 2


def _staging_names(cursor) -> dict[str, str]:
    """The names of this backend's UNLOGGED staging tables (see ``profile_sql``)."""
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
    return {"ev": f"pz_ev_{pid}", "pc": f"pz_pc_{pid}", "intents": f"pz_in_{pid}"}


def drop_staging(cursor) -> None:
    """Drop the build's staging tables, if any (they go with the transaction anyway)."""
    cursor.execute(profile_sql.DROP_STAGING.format(**_staging_names(cursor)))


def _shopper_ranges(cursor, table: str, parts: int) -> list[tuple[int, int]]:
    """Split the shoppers of the analysed staging ``table`` into at most ``parts`` ranges of
    ids, ``[(from, to), ...]`` with ``from <= user_id < to``, covering every id once, each
    with about as many events: cut at the quantiles of ``user_id`` that ANALYZE stored
    (``pg_stats``: the histogram, or the most common values when there are few shoppers), so
    no scan. One range when there are no statistics."""
    everyone = [(0, 2**31)]
    if parts <= 1:
        return everyone
    cursor.execute(
        "SELECT s.histogram_bounds::text::bigint[], s.most_common_vals::text::bigint[],"
        " s.most_common_freqs FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname "
        "WHERE c.oid = to_regclass(%s) AND s.attname = 'user_id'",
        [table],
    )
    row = cursor.fetchone()
    histogram, common, freqs = row if row else (None, None, None)
    if histogram and len(histogram) > parts:
        cuts = {histogram[len(histogram) * k // parts] for k in range(1, parts)}
    elif common:
        pairs = sorted(zip(common, freqs, strict=True))
        total, seen, cuts = sum(freqs), 0.0, set()
        for value, freq in pairs:
            if seen >= total * (len(cuts) + 1) / parts and len(cuts) < parts - 1:
                cuts.add(value)
            seen += freq
    else:
        return everyone
    edges = [0, *sorted(cuts - {0}), 2**31]
    return list(zip(edges, edges[1:], strict=False))


def aggregate_sql(
    cursor, *, lo: int, hi: int, user_id: int | None = None, compare: bool = False
) -> None:
    """Fold the events ``lo < id <= hi`` (of one shopper, or all) into the temporary ``pz_agg``.

    One row per shopper whose personalization is on, with the columns of the profile's event
    part (``event_count`` ... ``intents``; ``affinity_ids``/``affinity_raw`` hold the raw scores
    by key id, see ``PreferenceProfile``) and ``change`` (NULL). With ``compare`` (a full build
    over every event: ``lo`` 0, no ``user_id``) only the rows that differ from the stored
    profiles, with ``change`` 'new', 'changed', 'cleared' or 'empty' (the last two: a profile
    whose shopper has no event any more, its event columns NULL; see
    ``profile_sql._PART_COMPARED``). The temporary staging tables are dropped at commit, the
    UNLOGGED ones (readable by parallel workers) before this returns; keys met for the first
    time are added to the ``InterestKey`` dictionary (in the same transaction). PostgreSQL
    only; must run inside a transaction. Same result as ``aggregate_python`` (floats up to the
    order of addition).
    """
    event_filter = profile_sql.EVENT_FILTER.format(
        user_filter="AND e.user_id = %(user_id)s" if user_id is not None else ""
    )
    params = {
        "lo": lo,
        "hi": hi,
        "user_id": user_id,
        "weights": json.dumps(event_weights()),
        "epoch": decay_epoch().timestamp(),
        "half_life": half_life_seconds(),
        "intent_ttl_days": int(settings.PERSONALIZATION_INTENT_TTL_DAYS),
    }
    names = _staging_names(cursor)
    big = hi - lo > ANALYZE_ABOVE_EVENTS
    # Enough memory to sort and hash in RAM, and no JIT (its compile time costs more than it
    # saves here).
    cursor.execute("SET LOCAL work_mem = '1GB'")
    cursor.execute("SET LOCAL jit = off")
    cursor.execute(profile_sql.DROP_STAGING.format(**names))
    if big:
        # Parallel workers for the big steps: the planner costs a function scan as nearly free
        # (without this it never starts workers for the affinity parts), and the weighted
        # events' expressions (JSON, regex, exp) cost it more than it thinks: with workers the
        # leader's CPU for that step halves (0.68 s -> 0.35 s, 1,000,000 events). Reset below.
        cursor.execute("SET LOCAL parallel_setup_cost = 0")
        cursor.execute("SET LOCAL parallel_tuple_cost = 0")
    affinity_parts = ""  # the AGGREGATE step's function calls, once the ranges are known
    for step in profile_sql.STEPS:
        if step is profile_sql.AGGREGATE:
            if big:
                # new tables have no statistics until analysed; without them the planner
                # sorts all (shopper, key) rows at once instead of each shopper's few (full
                # build); a small incremental batch plans well without (and saves ~30 ms).
                # A sample of 3,000 rows (statistics target 10) is enough for the plans and
                # the ranges: the default 30,000 took 70-80 ms of a full build, this 15-25
                cursor.execute("SET LOCAL default_statistics_target = 10")
                cursor.execute("ANALYZE {ev}, {pc}".format(**names))
                cursor.execute("SET LOCAL default_statistics_target TO DEFAULT")
            ranges = _shopper_ranges(cursor, names["ev"], AFFINITY_PARTS if big else 1)
            affinity_parts = " UNION ALL ".join(
                profile_sql.AFFINITY_PART.format(
                    lo=lo_user, hi=hi_user, compare="true" if compare else "false", **names
                )
                for lo_user, hi_user in ranges
            )
        cursor.execute(
            step.format(event_filter=event_filter, parts=affinity_parts, **names), params
        )
        if step is profile_sql.AGGREGATE:
            cursor.execute(profile_sql.DROP_SHARED_STAGING.format(**names))
    if big:
        cursor.execute("SET LOCAL parallel_setup_cost TO DEFAULT")
        cursor.execute("SET LOCAL parallel_tuple_cost TO DEFAULT")


def _write_sql(*, lo, hi, user_id, add) -> tuple[set[int], set[int]]:
    """Aggregate and write (see ``_aggregate_and_write``); ``changed`` also holds the profiles
    stripped of a removed interest or deleted for an opt-out."""
    full = not add and user_id is None
    with connection.cursor() as cursor:
        aggregate_sql(cursor, lo=lo, hi=hi, user_id=user_id, compare=full)
        built = set()
        if not full:  # (a full build needs no list: its parts compared)
            cursor.execute("SELECT user_id FROM pz_agg")
            built = {row[0] for row in cursor.fetchall()}
        changed = set()
        if add:
            changed = set(built)
            cursor.execute(profile_sql.UPSERT_ADD)
        elif full:  # pz_agg holds what to write, with its change
            # the writes below join it to the profile table: with statistics the planner picks
            # hash joins for many rows and index lookups for few (0 rows: no time)
            cursor.execute("ANALYZE pz_agg (user_id, change)")
            for statement in (
                profile_sql.FULL_CHANGED,
                profile_sql.FULL_NEW,
                profile_sql.FULL_CLEARED,
            ):
                cursor.execute(statement)
                changed.update(row[0] for row in cursor.fetchall())
        else:
            for statement in (profile_sql.REPLACE_CHANGED, profile_sql.REPLACE_NEW):
                cursor.execute(statement)
                changed.update(row[0] for row in cursor.fetchall())
        for statement in (profile_sql.STRIP_REMOVED, profile_sql.DELETE_OPTED_OUT):
            cursor.execute(statement)
            changed.update(row[0] for row in cursor.fetchall())
    return built, changed


# --- the Python twin -------------------------------------------------------------------------


@dataclass
class Aggregate:
    affinities: dict = field(default_factory=lambda: defaultdict(float))
    event_count: int = 0
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None
    orders: set = field(default_factory=set)
    monetary: Decimal = Decimal("0")
    last_purchase_at: datetime | None = None
    first_purchase_at: datetime | None = None
    sentiment_sum: float = 0.0
    sentiment_count: int = 0
    intents: dict = field(default_factory=dict)


def price_band_key(price) -> str:
    from shop.models import price_band_for

    return str(price_band_for(price))


def _parse_expiry(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def aggregate_python(*, lo: int, hi: int, user_id: int | None = None) -> dict[int, Aggregate]:
    """The same aggregation as ``aggregate_sql`` (``profile_sql.STEPS``), one event at a time."""
    from shop.models import Product, Variant

    weights = event_weights()
    epoch, half_life = decay_epoch(), half_life_seconds()
    ttl = timedelta(days=int(settings.PERSONALIZATION_INTENT_TTL_DAYS))
    events = Event.objects.filter(id__gt=lo, id__lte=hi, user__isnull=False).exclude(
        user_id__in=ShopperChoice.objects.filter(personalization_enabled=False).values("user_id")
    )
    if user_id is not None:
        events = events.filter(user_id=user_id)
    removed = {
        (uid, f"{dim}:{value}")
        for uid, dim, value in RemovedInterest.objects.values_list("user_id", "dimension", "value")
    }
    products = {
        pk: (category, brand, colour, style, price)
        for pk, category, brand, colour, style, price in Product.objects.values_list(
            "pk", "category_id", "brand_id", "colour", "style", "price"
        )
    }
    variants = {
        pk: (colour, size)
        for pk, colour, size in Variant.objects.values_list("pk", "colour", "size")
    }
    result: dict[int, Aggregate] = defaultdict(Aggregate)
    rows = events.order_by("id").values_list(
        "id", "user_id", "kind", "product_id", "value", "attributes", "occurred_at"
    )
    for pk, uid, kind, product_id, value, attributes, occurred_at in rows.iterator(2000):
        agg = result[uid]
        attributes = attributes if isinstance(attributes, dict) else {}
        agg.event_count += 1
        agg.first_event_at = min(filter(None, [agg.first_event_at, occurred_at]))
        agg.last_event_at = max(filter(None, [agg.last_event_at, occurred_at]))
        if kind == Event.Kind.PURCHASE:
            agg.orders.add(str(attributes["order"]) if "order" in attributes else f"#{pk}")
            agg.monetary += value or 0
            agg.last_purchase_at = max(filter(None, [agg.last_purchase_at, occurred_at]))
            agg.first_purchase_at = min(filter(None, [agg.first_purchase_at, occurred_at]))
        if kind == Event.Kind.TEXT_SIGNAL:
            sentiment = attributes.get("sentiment")
            if _number(sentiment):
                agg.sentiment_sum += float(max(-1, min(1, Decimal(str(sentiment)))))
                agg.sentiment_count += 1
            intent = attributes.get("intent")
            if isinstance(intent, str) and intent:
                category = attributes.get("category_id")
                category = str(category) if isinstance(category, str | int) else ""
                category = str(int(category)) if category.isdigit() and len(category) <= 9 else ""
                key = f"{intent[:40].lower()}:{category}"
                expiry = _parse_expiry(attributes.get("expires_at")) or occurred_at + ttl
                agg.intents[key] = max(agg.intents.get(key, 0), int(expiry.timestamp() // 1))
        if kind in weights and product_id in products:
            category, brand, colour, style, price = products[product_id]
            variant = attributes.get("variant")
            v_colour, v_size = "", ""
            if isinstance(variant, int | str) and str(variant).isdigit():
                v_colour, v_size = variants.get(int(variant), ("", ""))
            keys = [
                f"category:{category}",
                f"brand:{brand}",
                f"colour:{(v_colour or colour).lower()}" if (v_colour or colour) else None,
                f"size:{v_size.lower()}" if v_size else None,
                f"style:{style.lower()}" if style else None,
                f"price_band:{price_band_key(price)}",
            ]
            weight = float(weights[kind]) * 2.0 ** (
                (occurred_at - epoch).total_seconds() / half_life
            )
            for key in keys:
                if key and (uid, key) not in removed:
                    agg.affinities[key] += weight
    return dict(result)


def _write_python(aggregates: dict[int, Aggregate], *, add: bool) -> set[int]:
    existing = {
        p.user_id: p
        for p in PreferenceProfile.objects.select_for_update().filter(user_id__in=list(aggregates))
    }
    now = timezone.now()
    for uid, agg in aggregates.items():
        profile = existing.get(uid) if add else None
        if profile is None:
            profile = existing.get(uid) or PreferenceProfile(user_id=uid)
            _assign(profile, agg)
        else:
            _add(profile, agg)
        profile.updated_at = now
        profile.save()
    return set(aggregates)


def _assign(profile: PreferenceProfile, agg: Aggregate) -> None:
    profile.affinities = dict(agg.affinities)
    profile.event_count = agg.event_count
    profile.first_event_at, profile.last_event_at = agg.first_event_at, agg.last_event_at
    profile.order_count = len(agg.orders)
    profile.monetary = agg.monetary
    profile.last_purchase_at, profile.first_purchase_at = (
        agg.last_purchase_at,
        agg.first_purchase_at,
    )
    profile.sentiment_sum, profile.sentiment_count = agg.sentiment_sum, agg.sentiment_count
    profile.intents = dict(agg.intents)


def _add(profile: PreferenceProfile, agg: Aggregate) -> None:
    affinities = dict(profile.affinities)
    for key, raw in agg.affinities.items():
        affinities[key] = affinities.get(key, 0.0) + raw
    profile.affinities = affinities
    profile.event_count += agg.event_count
    profile.first_event_at = min(
        filter(None, [profile.first_event_at, agg.first_event_at]), default=None
    )
    profile.last_event_at = max(
        filter(None, [profile.last_event_at, agg.last_event_at]), default=None
    )
    profile.order_count += len(agg.orders)
    profile.monetary += agg.monetary
    profile.last_purchase_at = max(
        filter(None, [profile.last_purchase_at, agg.last_purchase_at]), default=None
    )
    profile.first_purchase_at = min(
        filter(None, [profile.first_purchase_at, agg.first_purchase_at]), default=None
    )
    profile.sentiment_sum += agg.sentiment_sum
    profile.sentiment_count += agg.sentiment_count
    intents = dict(profile.intents)
    for key, expiry in agg.intents.items():
        intents[key] = max(intents.get(key, 0), expiry)
    profile.intents = intents
