"""The full stack: docker-compose.yml agrees with the settings, and its process commands run
here outside Docker against the local PostgreSQL and Redis (there is no Docker engine)."""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def production_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"))
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,shop.example.com",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(extra)
    return env


def test_compose_has_the_services_with_healthchecks():
    services = COMPOSE["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ["postgres", "redis", "web", "worker"]:
        assert "healthcheck" in services[name], name
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["web"]["command"][0] == "gunicorn"
    assert (
        services["web"]["command"][1]
        == settings.WSGI_APPLICATION.rsplit(".", 1)[0] + ":application"
    )
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in ["web", "worker", "beat"]:
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_compose_environment_matches_what_settings_read():
    env = COMPOSE["services"]["web"]["environment"]
    source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'(?:environ\.get|env_bool|env_list)\(\s*"([A-Z_]+)"', source))
    assert set(env) <= read, f"compose sets variables the settings never read: {set(env) - read}"
    pg = COMPOSE["services"]["postgres"]["environment"]
    assert env["DATABASE_URL"] == (
        f"postgres://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
    )
    assert env["REDIS_URL"].startswith("redis://redis:6379/")
    assert env["DEBUG"] == "0"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen" in dockerfile
    assert "collectstatic" in dockerfile


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def compose_command(service: str) -> list[str]:
    """A service's command from docker-compose.yml, with the executable from this venv."""
    command = list(COMPOSE["services"][service]["command"])
    if command[0] == "python":
        return [sys.executable, *command[1:]]
    return [str(Path(sys.executable).parent / command[0]), *command[1:]]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_compose_process_commands_run_outside_docker(tmp_path):
    """migrate, web (gunicorn), worker and beat (celery) exactly as docker-compose.yml runs
    them, here against the local PostgreSQL and Redis."""
    db = settings.DATABASES["default"]
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    port = free_port()
    env = production_env(
        DATABASE_URL=database_url,
        REDIS_URL=settings.REDIS_URL,
        SECURE_SSL_REDIRECT="0",
        CACHE_KEY_PREFIX="deploytest",
        # Its worker and beat use a queue of their own: parallel test processes share Redis, and
        # their workers on the default queue must not take (or be sent) this stack's tasks.
        CELERY_TASK_DEFAULT_QUEUE=f"deploytest-{uuid.uuid4().hex[:8]}",
    )
    migrate = subprocess.run(
        compose_command("migrate"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    web = compose_command("web")
    web[web.index("--bind") + 1] = f"127.0.0.1:{port}"
    web[web.index("--workers") + 1] = "1"
    commands = {
        "web": web,
        "worker": [*compose_command("worker"), "--pool=solo"],
        "beat": [*compose_command("beat"), "--schedule", str(tmp_path / "beat-schedule")],
    }
    logs = {name: tmp_path / f"{name}.log" for name in commands}
    procs = {
        name: subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=logs[name].open("w"), stderr=subprocess.STDOUT
        )
        for name, command in commands.items()
    }
    try:
        body = None
        for _ in range(60):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read()
                break
            except OSError:
                time.sleep(0.5)
        assert body == b"ok", logs["web"].read_text()
        ping_cmd = [*compose_command("worker")[:3], "inspect", "ping", "--timeout", "5"]
        for _ in range(10):  # the worker needs a few seconds to connect
            ping = subprocess.run(ping_cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            if "pong" in ping.stdout:
                break
        assert "pong" in ping.stdout, ping.stdout + ping.stderr + logs["worker"].read_text()
        for _ in range(40):
            if "beat: Starting" in logs["beat"].read_text():
                break
            time.sleep(0.5)
        time.sleep(1)  # it has read its schedules from the database and keeps running
        assert procs["beat"].poll() is None, logs["beat"].read_text()
        assert "beat: Starting" in logs["beat"].read_text()
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        wait_for_other_sessions_to_leave()


def wait_for_other_sessions_to_leave():
    """The servers' database sessions end a moment after they exit; let the test database go."""
    from django.db import connection

    with connection.cursor() as cursor:
        for _ in range(50):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.2)


def settings_under(env: dict) -> dict:
    code = (
        "import json, django; from django.conf import settings as s; django.setup(); "
        "print(json.dumps({'cache': s.CACHES['default']['BACKEND'], 'session': s.SESSION_ENGINE,"
        " 'broker': s.CELERY_BROKER_URL, 'db': s.DATABASES['default']['ENGINE']}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout.strip().splitlines()[-1])


def test_redis_url_switches_cache_sessions_and_broker_and_the_default_needs_no_server():
    embedded = settings_under({})
    assert embedded == {
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "session": "django.contrib.sessions.backends.db",
        "broker": "filesystem://",
        "db": "django.db.backends.sqlite3",
    }
    full = settings_under(
        {"REDIS_URL": "redis://127.0.0.1:6379/9", "DATABASE_URL": "postgres://u@h:5432/agora"}
    )
    assert full == {
        "cache": "config.cache.FailOpenRedisCache",
        "session": "django.contrib.sessions.backends.cached_db",
        "broker": "redis://127.0.0.1:6379/9",
        "db": "django.db.backends.postgresql",
    }
