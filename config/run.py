"""``make run``: the store and everything it needs, in one terminal; Ctrl-C stops them all.

Processes: the web server, a Celery worker and beat (on the filesystem broker unless REDIS_URL
is set), the mail sink, and any extra process listed in ``config.run.EXTRA`` (the local
identity provider adds itself there).

Ports: the store on ``--port`` (``PORT`` in the Makefile), the mail sink on ``EMAIL_PORT``
(1025) and Friendbook on the port of ``FRIENDBOOK_URL`` (http://127.0.0.1:8001), so that two
demos can run side by side: ``PORT=8300 EMAIL_PORT=8302 FRIENDBOOK_URL=http://127.0.0.1:8301
make run``. Links in emails (``SITE_URL``) and Friendbook's accepted callback
(``FRIENDBOOK_REDIRECT_URIS``) follow the store's address unless they are set.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

PY = sys.executable


def processes(host: str, port: int) -> dict[str, list[str]]:
    procs = {
        "web": [PY, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        "worker": [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--pool=prefork",
        ],
        "beat": [PY, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"],
        "mail": [PY, "-m", "config.mailsink", "--port", os.environ.get("EMAIL_PORT", "1025")],
    }
    procs.update(EXTRA)
    return procs


def idp_address(friendbook_url: str | None = None) -> str:
    """``host:port`` that Friendbook listens on: the one of ``FRIENDBOOK_URL`` (the address the
    store sends shoppers to), default ``127.0.0.1:8001``. Raises ``SystemExit`` with a message
    when the URL has no usable host or port."""
    url = friendbook_url or os.environ.get("FRIENDBOOK_URL") or "http://127.0.0.1:8001"
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    if not parts.hostname or not port:
        raise SystemExit(
            f"FRIENDBOOK_URL={url!r} needs a host and a port, e.g. http://127.0.0.1:8001"
        )
    return f"{parts.hostname}:{port}"


EXTRA: dict[str, list[str]] = {
    # Friendbook, the local OpenID Connect provider (sandbox/idp): migrates its own SQLite
    # database under sandbox/idp/var/, seeds its demo members idempotently, then serves on the
    # address of FRIENDBOOK_URL.
    "idp": [PY, "sandbox/idp/manage.py", "friendbook_serve", idp_address()],
}


def demo_env(base, host: str = "127.0.0.1", port: int = 8000) -> dict[str, str]:
    """The processes' environment: shoppers see the store's own 404/500 pages, never Django's
    debug pages (DEBUG off, AGORA_LOCAL_DEMO for plain http on 127.0.0.1 and WhiteNoise static).
    ``DEBUG=1 make run`` brings the debug pages back for a developer.

    Unless ``base`` sets them, ``SITE_URL`` (links in emails) is ``http://<host>:<port>`` and
    Friendbook accepts the callback of the store on that port (``FRIENDBOOK_REDIRECT_URIS``, at
    127.0.0.1 and localhost, and at ``host`` when it is another name), so ``PORT=8300 make run``
    signs in with Friendbook without more settings. ``0.0.0.0`` stands for 127.0.0.1."""
    env = {**base, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DEBUG", "0")
    env.setdefault("AGORA_LOCAL_DEMO", "1")
    wildcard = host in ("0.0.0.0", "::", "")  # noqa: S104 (a comparison, not a bind)
    public = "127.0.0.1" if wildcard else host
    env.setdefault("SITE_URL", f"http://{public}:{port}")
    hosts = dict.fromkeys(("127.0.0.1", "localhost", public))
    env.setdefault(
        "FRIENDBOOK_REDIRECT_URIS",
        ",".join(f"http://{h}:{port}/accounts/oidc/friendbook/login/callback/" for h in hosts),
    )
    return env


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    env = demo_env(os.environ, args.host, args.port)
    running = {}
    for name, command in processes(args.host, args.port).items():
        running[name] = subprocess.Popen(command, env=env, start_new_session=True)
    print(
        f"\n  Agora is running on http://{args.host}:{args.port}/  (Ctrl-C stops everything)\n",
        flush=True,
    )

    def stop(*_):
        for proc in running.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.time() + 10
        for proc in running.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        for name, proc in running.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; stopping the rest.", flush=True)
                stop()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
