"""One cached page hit, in process: microseconds per hit and where they go (issue 15).

``python -m bench.pagehit [path ...]`` calls ``config.wsgi.application`` with a cookieless GET
of each path (production settings: DEBUG off, the bench database and Redis of
``DATABASE_URL``/``REDIS_URL``), warms the page cache, then times ``BENCH_HIT_N`` hits (default
2000) and prints µs per hit (wall clock, and this process's CPU: on a busy machine the wall
clock mostly waits for Redis); with ``BENCH_HIT_PROFILE=1`` it also prints pyinstrument's tree of
the hits. ``AGORA_PAGE_CACHE_FAST=0`` measures the previous MGET path for an A/B comparison.
No server and no network client: the cost of the hit itself, without gunicorn and wrk.
"""

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def environ(path: str) -> dict:
    import io

    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def hit(application, path: str) -> tuple[str, dict]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = application(environ(path), start_response)
    b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return seen["status"], seen["headers"]


def main() -> None:
    from config.wsgi import application

    paths = sys.argv[1:] or ["/", "/products/"]
    n = int(os.environ.get("BENCH_HIT_N", "2000"))
    for path in paths:
        for _ in range(3):
            status, headers = hit(application, path)
        state = headers.get("X-Agora-Page-Cache")
        assert status.startswith("200") and state == "hit", (path, status, state)
        profiler = None
        if os.environ.get("BENCH_HIT_PROFILE") == "1":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0001)
            profiler.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(n):
            hit(application, path)
        per_hit = (time.perf_counter() - started) / n * 1e6
        cpu_per_hit = (time.process_time() - cpu_started) / n * 1e6
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        fast = os.environ.get("AGORA_PAGE_CACHE_FAST", "1")
        print(
            f"{path}: {per_hit:.0f} us per hit, {cpu_per_hit:.0f} us of CPU "
            f"(AGORA_PAGE_CACHE_FAST={fast}, {n} hits)"
        )


if __name__ == "__main__":
    main()
