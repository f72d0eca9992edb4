"""Store pages under load, side by side with the framework's own floor (issue 15).

In one run and with the same gunicorn settings (``--workers 2``, sync workers, DEBUG off,
PostgreSQL and Redis), the bench serves:

- the floor: ``bench.floor``, a bare Django project whose one view returns a fixed string;
- Agora (``config.wsgi``) with production settings on the bench database, seeded with the demo
  store (``seed_demo``) on top of the profile bench's shoppers.

``wrk`` (Debian's package, installed by the bench when missing) loads each page from another
process on loopback, ``--connections`` at a time for ``--seconds`` each, in ``--rounds``
interleaved rounds (floor, page, floor, page ...), so a slow moment of the machine hits every
page alike. Reported per page: requests per second (median over the rounds), p50 and p95 latency
(from wrk's own histogram, through a Lua ``done`` hook), non-2xx responses and socket errors,
the page's ratio to the floor's median, and the page's database queries (one request through
Django's test client, counted with ``CaptureQueriesContext``).

Anonymous rows are visitors without cookies: once warm they are served from the whole-page
cache (``shop.pagecache``); each ratio row says what the cache did for that page ("hit"). The
``*_uncached`` rows add a query parameter the cache does not know, so every request renders the
page: the render path that a miss, a signed-in shopper's shared parts and a cold cache cost.

A/B of the hit path, robust to the load of a shared machine: a second Agora server with
``AGORA_PAGE_CACHE_FAST=0`` (the previous path: the cache middleware after security, CSP and
WhiteNoise, version and pickled entry in one ``MGET``, one Redis command per banner decision
and event) serves the same anonymous pages in the same rounds (``*_anonymous_mget`` rows), and
``pages.<page>.fast_vs_mget`` gives the fast path's requests per second over the MGET path's.

Rows: ``pages.<page>.rps``, ``.p50_ms``, ``.p95_ms``, ``.non_2xx``, ``.ratio``,
``.worker_cpu_us`` and ``.redis_cpu_us`` (CPU microseconds per request of the page's gunicorn
workers and of the Redis server, read from ``/proc`` around each run: unlike req/s, hardly moved
by other work on the machine) and ``.queries``. Environment: ``BENCH_PAGE_SECONDS`` (default
8), ``BENCH_PAGE_ROUNDS`` (3), ``BENCH_PAGE_CONNECTIONS`` (8), ``BENCH_PAGES`` (a comma-separated
subset of the rows, e.g. ``home_signed_in,product_signed_in``; default all).
"""

import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
UNCACHED = "bench=uncached"  # a parameter shop.pagecache does not know: no cache
ANONYMOUS_CACHED = (
    "home_anonymous",
    "product_list_anonymous",
    "category_anonymous",
    "search_anonymous",
    "product_anonymous",
)
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests": %d, "seconds": %f, "p50_us": %d, "p95_us": %d, "non_2xx": %d, '
    .. '"socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    summary.errors.status, errors))
end
"""


#: base URL -> the gunicorn master's pid, for the CPU rows (``cpu_seconds``)
MASTERS: dict[str, int] = {}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process ``pid`` has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(base: str) -> list[int]:
    """The pids of the gunicorn workers serving ``base`` (the children of its master)."""
    master = MASTERS[base]
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def redis_pid() -> int | None:
    """The pid of the Redis server of ``REDIS_URL`` when it runs on this machine, else None."""
    import redis

    try:
        pid = int(redis.Redis.from_url(os.environ["REDIS_URL"]).info("server")["process_id"])
    except Exception:  # no Redis, or one we cannot see: the rows go without its CPU
        return None
    return pid if Path(f"/proc/{pid}/stat").exists() else None


def load_measured(wrk: str, base: str, path: str, *, redis: int | None, **options) -> dict:
    """``load`` of ``base + path``, plus the CPU microseconds per request that the server's
    gunicorn workers (``worker_cpu_us``) and the Redis server (``redis_cpu_us``, when it runs
    here) used meanwhile: a figure the machine's other load hardly moves, unlike req/s."""
    pids = worker_pids(base)
    before = [cpu_seconds(pid) for pid in pids]
    redis_before = cpu_seconds(redis) if redis else 0.0
    result = load(wrk, base + path, **options)
    requests = max(1.0, result["rps"] * options["seconds"])
    worker = sum(cpu_seconds(pid) for pid in pids) - sum(before)
    result["worker_cpu_us"] = worker / requests * 1e6
    if redis:
        result["redis_cpu_us"] = (cpu_seconds(redis) - redis_before) / requests * 1e6
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    """Path of wrk; installs Debian's package when it is missing (the bench runs as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    return shutil.which("wrk") or sys.exit("wrk could not be installed: apt-get install wrk")


def production_env(port: int) -> dict:
    from django.conf import settings

    database = settings.DATABASES["default"]
    url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": url,
        "REDIS_URL": os.environ["REDIS_URL"],
        "SITE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def gunicorn(app: str, port: int, env: dict, log: Path):
    """Serve ``app`` with the bench's gunicorn settings until the block ends."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--access-logfile",
        "/dev/null",
        "--log-level",
        "warning",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # generous: on a loaded shared machine gunicorn's workers take long to import Django
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers (the floor has no /healthz)
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not start: see {log}") from None
                time.sleep(0.3)
        MASTERS[f"http://127.0.0.1:{port}"] = process.pid
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def load(wrk: str, url: str, *, seconds: int, connections: int, cookie: str = "") -> dict:
    """One wrk run; returns requests/s, p50 and p95 in ms, non-2xx and socket errors."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
    command += ["-s", script.name]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    data = json.loads(line[5:])
    return {
        "rps": data["requests"] / data["seconds"],
        "p50_ms": data["p50_us"] / 1000,
        "p95_ms": data["p95_us"] / 1000,
        "non_2xx": data["non_2xx"] + data["socket_errors"],
    }


def seed_store() -> tuple[str, str, str]:
    """The demo store in the bench database; returns (product path, category path, a term)."""
    from django.core.management import call_command

    from shop.models import Category, Product

    call_command("seed_demo", stdout=io.StringIO())
    product = Product.objects.filter(is_active=True).exclude(slug__startswith="bench-").first()
    category = product.category
    while category.parent_id:
        category = Category.objects.get(pk=category.parent_id)
    term = product.name.split()[-1].lower()
    return product.get_absolute_url(), category.get_absolute_url(), term


def signed_in_cookie(base: str) -> str:
    """Sign a demo shopper in through the real sign-in form; returns the Cookie header value.

    Production cookies are ``Secure``, which a client keeps off plain http; the bench talks
    http on loopback, so it reads Set-Cookie itself instead of using a cookie jar.
    """
    import http.client
    import re
    import urllib.parse
    from http.cookies import SimpleCookie

    host = base.removeprefix("http://")

    def request(method, body=None, cookies=None, path="/accounts/login/"):
        connection = http.client.HTTPConnection(host, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return response, response.read().decode(), {k: m.value for k, m in jar.items()}

    _, page, cookies = request("GET")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"login": "shopper01@agora.test", "password": "agora-demo", "csrfmiddlewaretoken": token}
    response, _, new = request("POST", urllib.parse.urlencode(form), cookies)
    cookies.update(new)
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"the bench could not sign the demo shopper in ({response.status})")
    # Follow the redirect as a browser does: the page shows the "signed in" message and deletes
    # its cookie (an empty value); a client that kept sending it would see it on every page.
    _, _, new = request("GET", cookies=cookies, path=response.getheader("Location") or "/")
    cookies.update(new)
    cookies = {k: v for k, v in cookies.items() if v}
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def page_cache_state(url: str, cookie: str) -> str:
    """What the whole-page cache (anonymous or signed-in) did for one more request of ``url``
    once warm: "hit" (served from the cache), "miss" (rendered and stored) or "" (not cached)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        headers = response.headers  # anonymous (shop.pagecache) or signed in (shop.signed)
        return headers.get("X-Agora-Page-Cache") or headers.get("X-Agora-Signed-Cache", "")


def queries_for(path: str, *, signed_in: bool) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if signed_in:
        client.force_login(get_user_model().objects.get(email="shopper01@agora.test"))
    client.get(path)  # warm the caches, as the loaded server's are
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries)


def run(**_) -> list[dict]:
    seconds = int(os.environ.get("BENCH_PAGE_SECONDS", "8"))
    rounds = int(os.environ.get("BENCH_PAGE_ROUNDS", "3"))
    connections = int(os.environ.get("BENCH_PAGE_CONNECTIONS", "8"))
    wrk = ensure_wrk()
    product, category, term = seed_store()
    # Anonymous rows are visitors without cookies, served from the whole-page cache once warm
    # (shop.pagecache); the "uncached" rows add a parameter the cache does not know, which makes
    # Agora render the page for every request (the render path, as before the cache).
    pages = {
        "healthz": ("/healthz", False),
        "home_anonymous": ("/", False),
        "product_list_anonymous": ("/products/", False),
        "category_anonymous": (category, False),
        "search_anonymous": (f"/products/?q={term}", False),
        "product_anonymous": (product, False),
        "home_anonymous_uncached": (f"/?{UNCACHED}", False),
        "product_anonymous_uncached": (f"{product}?{UNCACHED}", False),
        "home_signed_in": ("/", True),
        "product_signed_in": (product, True),
        # the signed-in render path (a miss of shop.signed), side by side with its hits
        "home_signed_in_uncached": (f"/?{UNCACHED}", True),
        "product_signed_in_uncached": (f"{product}?{UNCACHED}", True),
    }
    only = [name for name in os.environ.get("BENCH_PAGES", "").split(",") if name]
    if only:  # a subset of the rows (e.g. the signed-in ones while working on them)
        pages = {name: pages[name] for name in only}
    # the same anonymous pages on the MGET path's server (AGORA_PAGE_CACHE_FAST=0): the A/B
    mget = {f"{name}_mget": name for name in ANONYMOUS_CACHED if name in pages}
    queries = {name: queries_for(path, signed_in=who) for name, (path, who) in pages.items()}
    logs = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    agora_port, floor_port, mget_port = free_port(), free_port(), free_port()
    # Production settings hash static file names: collect them as production would.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=production_env(agora_port),
        check=True,
    )
    results: dict[str, list[dict]] = {name: [] for name in ["floor", *pages, *mget]}
    old_env = {**production_env(mget_port), "AGORA_PAGE_CACHE_FAST": "0"}
    with (
        gunicorn(
            "config.wsgi:application", agora_port, production_env(agora_port), logs / "a.log"
        ) as agora,
        gunicorn("config.wsgi:application", mget_port, old_env, logs / "m.log") as old,
        gunicorn("bench.floor:application", floor_port, dict(os.environ), logs / "f.log") as floor,
    ):
        cookie = signed_in_cookie(agora)
        # each row: (server, path, cookie)
        servers = {
            name: (agora, path, cookie if who else "") for name, (path, who) in pages.items()
        }
        servers |= {name: (old, pages[base][0], "") for name, base in mget.items()}
        for base, path, who in servers.values():  # warm every worker's caches (and page cache)
            load(wrk, base + path, seconds=1, connections=connections, cookie=who)
        served = {
            name: page_cache_state(base + path, who) for name, (base, path, who) in servers.items()
        }
        redis = redis_pid()
        for _round in range(rounds):
            for name, (base, path, who) in servers.items():
                results["floor"].append(
                    load_measured(
                        wrk, floor, "/", redis=None, seconds=seconds, connections=connections
                    )
                )
                results[name].append(
                    load_measured(
                        wrk,
                        base,
                        path,
                        redis=redis,
                        seconds=seconds,
                        connections=connections,
                        cookie=who,
                    )
                )
    floor_rps = statistics.median(r["rps"] for r in results["floor"])
    floor_cpu = statistics.median(r["worker_cpu_us"] for r in results["floor"])
    size = f"demo store + bench data, gunicorn --workers {WORKERS}, wrk -c{connections}"
    reference = f"median of {rounds} rounds of {seconds} s; floor {floor_rps:,.0f} req/s"
    rows = [
        {
            "name": "pages.floor.rps",
            "value": round(floor_rps, 1),
            "unit": "req/s",
            "size": size,
            "reference": f"bare Django view, {len(results['floor'])} runs interleaved",
        },
        {
            "name": "pages.floor.worker_cpu_us",
            "value": round(floor_cpu, 1),
            "unit": "us/req",
            "size": size,
            "reference": "CPU of the gunicorn workers per request, median of the runs",
        },
    ]
    targets = {
        "home_anonymous": 0.5,
        "product_list_anonymous": 0.5,
        "category_anonymous": 0.5,
        "search_anonymous": 0.5,
        "product_anonymous": 0.4,
        "home_signed_in": 0.25,
        "product_signed_in": 0.25,
    }
    queries |= {name: queries[base] for name, base in mget.items()}
    for name, base in mget.items():
        fast = statistics.median(r["rps"] for r in results[base])
        slow = statistics.median(r["rps"] for r in results[name])
        rows.append(
            {
                "name": f"pages.{base}.fast_vs_mget",
                "value": round(fast / slow, 3),
                "unit": "ratio",
                "size": size,
                "reference": f"{reference}; one-round-trip hit over the MGET path, same rounds",
            }
        )
    for name in [*pages, *mget]:
        runs = results[name]
        rps = statistics.median(r["rps"] for r in runs)
        target = targets.get(name)
        ratio_ref = f"target >= {target:.0%} of the floor" if target else "no target"
        if served[name]:
            ratio_ref += f"; page cache: {served[name]}"
        rows += [
            {
                "name": f"pages.{name}.rps",
                "value": round(rps, 1),
                "unit": "req/s",
                "size": size,
                "reference": reference,
            },
            {
                "name": f"pages.{name}.ratio",
                "value": round(rps / floor_rps, 4),
                "unit": "ratio",
                "size": size,
                "reference": ratio_ref,
            },
            {
                "name": f"pages.{name}.p50_ms",
                "value": round(statistics.median(r["p50_ms"] for r in runs), 2),
                "unit": "ms",
                "size": size,
                "reference": reference,
            },
            {
                "name": f"pages.{name}.p95_ms",
                "value": round(statistics.median(r["p95_ms"] for r in runs), 2),
                "unit": "ms",
                "size": size,
                "reference": reference,
            },
            {
                "name": f"pages.{name}.non_2xx",
                "value": sum(r["non_2xx"] for r in runs),
                "unit": "count",
                "size": size,
                "reference": "target 0",
            },
            {
                "name": f"pages.{name}.worker_cpu_us",
                "value": round(statistics.median(r["worker_cpu_us"] for r in runs), 1),
                "unit": "us/req",
                "size": size,
                "reference": "CPU of the gunicorn workers per request (floor: "
                f"{floor_cpu:.0f} us), median of {len(runs)} rounds",
            },
            *(
                [
                    {
                        "name": f"pages.{name}.redis_cpu_us",
                        "value": round(statistics.median(r["redis_cpu_us"] for r in runs), 1),
                        "unit": "us/req",
                        "size": size,
                        "reference": "CPU of the Redis server per request (all its clients)",
                    }
                ]
                if all("redis_cpu_us" in r for r in runs)
                else []
            ),
            {
                "name": f"pages.{name}.queries",
                "value": queries[name],
                "unit": "count",
                "size": "one warm request",
                "reference": "constant as the data grows (tested)",
            },
        ]
    return rows
