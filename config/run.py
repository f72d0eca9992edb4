"""``make run``: the store and everything it needs, in one terminal; Ctrl-C stops them all.

Processes: the web server, a Celery worker and beat (on the filesystem broker unless REDIS_URL
is set), the mail sink, and any extra process listed in ``config.run.EXTRA`` (the local
identity provider adds itself there).
"""

import argparse
import os
import signal
import subprocess
import sys
import time

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


EXTRA: dict[str, list[str]] = {
    # Friendbook, the local OpenID Connect provider (sandbox/idp): migrates its own SQLite
    # database under sandbox/idp/var/, seeds its demo members idempotently, then serves.
    "idp": [PY, "sandbox/idp/manage.py", "friendbook_serve", "127.0.0.1:8001"],
}


def demo_env(base) -> dict[str, str]:
    """The processes' environment: shoppers see the store's own 404/500 pages, never Django's
    debug pages (DEBUG off, AGORA_LOCAL_DEMO for plain http on 127.0.0.1 and WhiteNoise static).
    ``DEBUG=1 make run`` brings the debug pages back for a developer."""
    env = {**base, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DEBUG", "0")
    env.setdefault("AGORA_LOCAL_DEMO", "1")
    return env


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    env = demo_env(os.environ)
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
