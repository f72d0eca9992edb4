"""The real stack for the reliability tests: gunicorn, a Celery worker and an SMTP sink.

Every server runs as a subprocess with production settings (DEBUG off; ``AGORA_LOCAL_DEMO``
only for plain http on loopback and static files without collectstatic) against the database
and Redis a test names, and on a Celery queue of its own, so it shares nothing with another
test's worker or a developer's.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from bench.pages import free_port
from bench.soak import serve, wait_for

ROOT = Path(__file__).resolve().parents[2]


def database_url(settings_dict) -> str:
    auth = settings_dict["USER"] + (
        f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    )
    host = settings_dict["HOST"] or "127.0.0.1"
    return f"postgres://{auth}@{host}:{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"


def stack_env(*, database_url: str, redis_url: str, mail_port: int, web_port: int) -> dict:
    """Environment for gunicorn and the worker: production settings on the given services."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "AGORA_LOCAL_DEMO": "1",  # plain http on 127.0.0.1, static files from the finders
        "SECRET_KEY": "reliability-test-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": f"reliability-{uuid.uuid4().hex[:10]}",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(mail_port),
        "SITE_URL": f"http://127.0.0.1:{web_port}",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def web(env: dict, port: int, log: Path):
    """gunicorn serving the store until the block ends (``bench.soak.serve``)."""
    return serve(env, port, log)


class Workers:
    """Celery workers (``--pool=solo``) on the env's default queue; stopped at the end."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir, self.procs = env, log_dir, []

    def start(self) -> subprocess.Popen:
        queue = self.env["CELERY_TASK_DEFAULT_QUEUE"]
        log = (self.log_dir / f"worker-{len(self.procs)}.log").open("w")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                queue,
                "-n",
                f"{queue}-{len(self.procs)}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


__all__ = ["Workers", "database_url", "free_port", "stack_env", "wait_for", "web"]
