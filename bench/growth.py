"""How the heavy tasks grow: profile full build and segment refresh at 100,000, 1,000,000 and
3,000,000 events (issue 15), on ``--shoppers`` bench shoppers (default 100,000).

Not part of ``make bench`` (it makes 3,000,000 events and takes several minutes); run it with
``python -m bench --only bench.growth`` (``--growth-sizes 100000,1000000`` for fewer sizes).
The events are added in steps to bench.profiles' data (same generator), so the default
``make bench`` afterwards regenerates its 1,000,000 events once (about a minute).

Per size: the aggregation statement alone (``bench.profiles.sql_floor``: what grows with the
events), the full build's wall time and events per second (linear growth keeps that rate
flat), the segment refresh from empty (all built-in segments), the Python process's peak RSS
(``resource.getrusage``, a high-water mark over the whole run: the build's rows stay in
PostgreSQL, so it stays flat) and the bytes PostgreSQL spilled to temporary files during the
build (``pg_stat_database.temp_bytes``; 0 means the build ran in memory). Rows go to
bench/results.json as ``growth.<what>.<size>``. A third of the shoppers have consented
demographics (``bench.segments``), so the full build includes ``refresh_demographics`` (one call
to the social app per consenting shopper: a cost per shopper, not per event).
"""

import resource
import time

from django.db import connection

from bench.profiles import _ids, _insert_events, _scalar, make_data, sql_floor

SIZES = (100_000, 1_000_000, 3_000_000)


def _temp_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    # the counters are flushed when a transaction ends; read them from a fresh snapshot
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0] or 0)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _grow_to(events: int, *, shoppers: int, log) -> None:
    have = _scalar("SELECT count(*) FROM personalization_event")
    if have > events or not have:
        make_data(shoppers=shoppers, events=events, log=log)
        return
    if have == events:
        return
    first_user, first_product = _ids()
    started = time.perf_counter()
    _insert_events(
        count=events - have,
        shoppers=shoppers,
        spread="365 days",
        first_user=first_user,
        first_product=first_product,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE personalization_event")
    log(f"added {events - have:,} events in {time.perf_counter() - started:.1f} s")


def _size_label(events: int) -> str:
    return f"{events // 1_000_000}M" if events >= 1_000_000 else f"{events // 1000}k"


def run(*, shoppers: int, events: int, sizes=SIZES) -> list[dict]:
    from personalization import building
    from personalization.segments.models import SegmentMembership
    from personalization.segments.services import segments_refresh

    from .segments import _prepare

    def log(message):
        print(f"[growth] {message}", flush=True)

    rows, table = [], []
    for n, size in enumerate(sizes):
        _grow_to(size, shoppers=shoppers, log=log)
        if n == 0:
            _prepare(log)  # consented demographics for a third of the shoppers, at every size
        aggregation = sql_floor()
        temp_before = _temp_bytes()
        started = time.perf_counter()
        result = building.build_full()
        build = time.perf_counter() - started
        temp = _temp_bytes() - temp_before
        SegmentMembership.objects.all().delete()
        started = time.perf_counter()
        refresh = segments_refresh()
        refresh_seconds = time.perf_counter() - started
        rss = _peak_rss_mb()
        rate = size / build
        label = _size_label(size)
        log(
            f"{size:>9,} events: aggregation {aggregation:6.2f} s ({size / aggregation:,.0f} "
            f"events/s), full build {build:6.2f} s ({rate:,.0f} events/s, "
            f"{result.profiles:,} profiles, temp {temp / 2**20:.0f} MB), segment refresh "
            f"{refresh_seconds:.2f} s ({refresh.entered:,} entries), peak RSS {rss:.0f} MB"
        )
        table.append((size, aggregation, build, rate, refresh_seconds, rss, temp))
        detail = (
            f"{size:,} events, {shoppers:,} shoppers; peak RSS (Python) {rss:.0f} MB, "
            f"PostgreSQL temp files {temp / 2**20:.0f} MB"
        )
        rows += [
            {
                "name": f"growth.profiles_aggregation.{label}",
                "value": round(aggregation, 3),
                "unit": "s",
                "size": detail,
                "reference": f"{size / aggregation:,.0f} events/s; the aggregation statement alone",
            },
            {
                "name": f"growth.profiles_full_build.{label}",
                "value": round(build, 3),
                "unit": "s",
                "size": detail,
                "reference": f"{rate:,.0f} events/s; linear growth keeps the rate flat",
            },
            {
                "name": f"growth.segments_refresh.{label}",
                "value": round(refresh_seconds, 3),
                "unit": "s",
                "size": detail,
                "reference": f"all built-in segments from empty, {refresh.entered:,} entries",
            },
        ]
    print("\n   events   aggr. s   build s   events/s   refresh s   peak RSS MB   PG temp MB")
    for size, aggregation, build, rate, refresh_seconds, rss, temp in table:
        print(
            f"{size:>9,}  {aggregation:8.2f}  {build:8.2f}  {rate:9,.0f}  {refresh_seconds:10.2f}  "
            f"{rss:12.0f}  "
            f"{temp / 2**20:11.0f}"
        )
    return rows
