"""``make run`` shows shoppers the store's own error pages, never Django's debug pages, and
serves static files through WhiteNoise with DEBUG off (issue 17, item 2)."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from config.run import demo_env, processes
from tests.test_deploy import ROOT, free_port


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def test_make_run_turns_debug_pages_off():
    env = demo_env({"PATH": os.environ.get("PATH", "")})
    assert env["DEBUG"] == "0" and env["AGORA_LOCAL_DEMO"] == "1"
    assert demo_env({"DEBUG": "1"})["DEBUG"] == "1"  # a developer can ask for them back
    assert processes("127.0.0.1", 8000)["web"][2] == "runserver"


@pytest.mark.django_db(transaction=True)
def test_the_demo_web_process_serves_store_error_pages_and_static_files():
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs the PostgreSQL test database to point the web process at")
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    clean.pop("SECRET_KEY", None)
    clean.pop("DEBUG", None)
    env = demo_env(clean)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    command = processes("127.0.0.1", port)["web"]
    command[command.index("runserver") + 1] = f"127.0.0.1:{port}"
    web = subprocess.Popen(
        [sys.executable, *command[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the demo web process did not start")
        status, body = _get(base + "/no-such-page/")
        assert status == 404
        assert "We couldn't find that page" in body
        assert "URLconf" not in body and "DEBUG = True" not in body
        status, body = _get(base + "/orders/NOPE/")
        assert status == 404 and "Traceback" not in body and "URLconf" not in body
        status, css = _get(base + "/static/css/agora.css")
        assert status == 200 and "{" in css
        assert settings.BASE_DIR  # the same checkout the tests run from
    finally:
        web.terminate()
        web.wait(timeout=10)


def test_the_store_has_its_own_error_pages(rf, db):
    from django.views import defaults
    from django.views.csrf import csrf_failure

    request = rf.get("/somewhere/")
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.cache import SessionStore

    request.user = AnonymousUser()
    request.session = SessionStore()
    pages = {
        500: defaults.server_error(request),
        400: defaults.bad_request(request, Exception("bad")),
        403: defaults.permission_denied(request, Exception("")),
        404: defaults.page_not_found(request, Exception("")),
    }
    for status, response in pages.items():
        body = response.content.decode()
        assert response.status_code == status
        assert "Agora" in body and "<h1>" in body, status
    assert "Something went wrong on our side" in pages[500].content.decode()
    csrf = csrf_failure(request, reason="CSRF cookie not set.")
    assert csrf.status_code == 403 and "Please try that again" in csrf.content.decode()


def test_make_run_on_another_port_keeps_links_and_social_sign_in_on_that_port():
    """``PORT=8300 EMAIL_PORT=8302 FRIENDBOOK_URL=http://127.0.0.1:8301 make run`` (two demos on
    one machine): emails link to the store's port, Friendbook accepts that port's callback and
    listens where the store sends shoppers; values set by hand win."""
    from config.run import idp_address

    env = demo_env({"PATH": "/usr/bin"}, "127.0.0.1", 8300)
    assert env["SITE_URL"] == "http://127.0.0.1:8300"
    callbacks = env["FRIENDBOOK_REDIRECT_URIS"].split(",")
    assert "http://127.0.0.1:8300/accounts/oidc/friendbook/login/callback/" in callbacks
    assert "http://localhost:8300/accounts/oidc/friendbook/login/callback/" in callbacks
    assert all(":8300/" in uri for uri in callbacks)
    wildcard = demo_env({}, "0.0.0.0", 8080)  # noqa: S104 (the HOST a README line suggests)
    assert wildcard["SITE_URL"] == "http://127.0.0.1:8080"
    named = demo_env({}, "shop.local", 8080)["FRIENDBOOK_REDIRECT_URIS"]
    assert "http://shop.local:8080/accounts/oidc/friendbook/login/callback/" in named
    mine = demo_env({"SITE_URL": "https://x.test", "FRIENDBOOK_REDIRECT_URIS": "https://x.test/cb"})
    assert (
        mine["SITE_URL"] == "https://x.test"
        and mine["FRIENDBOOK_REDIRECT_URIS"] == "https://x.test/cb"
    )
    assert idp_address("http://127.0.0.1:8301") == "127.0.0.1:8301"
    assert idp_address("http://localhost:8001/") == "localhost:8001"
    with pytest.raises(SystemExit, match="needs a host and a port"):
        idp_address("http://127.0.0.1:notaport")
