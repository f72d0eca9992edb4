"""``make bench``: run the benchmarks on PostgreSQL and merge their rows into bench/results.json.

The database is BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/agora_bench),
created and migrated if missing; it is never the development or test database.
"""

import argparse
import json
import os
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/agora_bench"
BENCHMARKS = [
    "bench.profiles",
    "bench.privacy",
    "bench.segments",
    "bench.outreach",
    "bench.recommendations",
    "bench.loyalty",
    "bench.crm",
    "bench.pages",
]


def prepare_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    admin = psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if exists.fetchone() is None:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def hold_bench_lock(url: str):
    """Take a PostgreSQL advisory lock so that two ``make bench`` runs on one server queue up.

    Two runs at once would share the bench database and each other's CPU, and both sets of
    figures would be wrong. Returns the open connection; the lock lasts as long as it does.
    """
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    conn = psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    if not conn.execute("SELECT pg_try_advisory_lock(4242)").fetchone()[0]:
        print("another `make bench` is running on this server; waiting for it to finish ...")
        conn.execute("SELECT pg_advisory_lock(4242)")
    return conn


def merge(rows: list[dict]) -> list[dict]:
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    by_name = {row["name"]: row for row in existing}
    for row in rows:
        by_name[row["name"]] = row
    merged = sorted(by_name.values(), key=lambda row: row["name"])
    RESULTS.write_text(json.dumps(merged, indent=2) + "\n")
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="run only this benchmark module, e.g. bench.profiles")
    parser.add_argument("--shoppers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--growth-sizes",
        default="100000,1000000,3000000",
        help="event counts for bench.growth (not part of the default run)",
    )
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("The benchmarks need PostgreSQL: set BENCH_DATABASE_URL=postgres://...")
    prepare_database(url)
    _lock = hold_bench_lock(url)  # noqa: F841 (held until the process exits)
    os.environ["DATABASE_URL"] = url
    # Profiles are cached in Redis in production, so the cached read is measured there too.
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from importlib import import_module

    rows = []
    # bench.growth (minutes, 3,000,000 events) runs only when asked for by --only
    for name in [args.only] if args.only else BENCHMARKS:
        extra = {}
        if name == "bench.growth":
            extra["sizes"] = [int(n) for n in args.growth_sizes.split(",")]
        rows += import_module(name).run(shoppers=args.shoppers, events=args.events, **extra)
    merged = merge(rows)
    width = max(len(row["name"]) for row in merged)
    print(f"\n{'benchmark':<{width}}  {'value':>12}  unit     size / reference")
    for row in merged:
        print(
            f"{row['name']:<{width}}  {row['value']:>12.6g}  {row['unit']:<7}  "
            f"{row['size']} / {row['reference']}"
        )
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
