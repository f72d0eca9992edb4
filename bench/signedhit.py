"""One signed-in store page hit, in process: microseconds per hit and where they go (issue 15).

``python -m bench.signedhit [path ...]`` signs the demo shopper in (``shopper01@agora.test``,
through the test client: a real cached_db session and CSRF cookie), then calls
``config.wsgi.application`` with that Cookie header for each path (production settings, as
``bench.pagehit``), warms ``shop.signed``'s cache, checks the hit header, and times
``BENCH_HIT_N`` hits (default 2000); ``BENCH_HIT_PROFILE=1`` prints pyinstrument's tree.
No server and no network client: the cost of the hit itself, without gunicorn and wrk.
"""

import os
import sys
import time

from bench.pagehit import environ

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def hit(application, path: str, cookie: str) -> tuple[str, dict]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    env = environ(path)
    env["HTTP_COOKIE"] = cookie
    body = application(env, start_response)
    b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return seen["status"], seen["headers"]


def signed_in_cookie(path: str) -> str:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1:8000")
    client.force_login(get_user_model().objects.get(email="shopper01@agora.test"))
    client.get(path, secure=True)  # the CSRF cookie
    return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())


def main() -> None:
    from config.wsgi import application

    paths = sys.argv[1:] or ["/"]
    n = int(os.environ.get("BENCH_HIT_N", "2000"))
    cookie = signed_in_cookie(paths[0])
    for path in paths:
        for _ in range(3):
            status, headers = hit(application, path, cookie)
        state = headers.get("X-Agora-Signed-Cache")
        assert status.startswith("200") and state == "hit", (path, status, state)
        profiler = None
        if os.environ.get("BENCH_HIT_PROFILE") == "1":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0001)
            profiler.start()
        started = time.perf_counter()
        for _ in range(n):
            hit(application, path, cookie)
        per_hit = (time.perf_counter() - started) / n * 1e6
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
        print(f"{path}: {per_hit:.0f} us per signed-in hit ({n} hits)")


if __name__ == "__main__":
    main()
