"""Friendbook (sandbox/idp) as a real subprocess, and a scripted member for non-browser tests.

The store under test talks to it over HTTP exactly as in production: discovery, token and
userinfo requests. ``Member`` plays the shopper's browser on Friendbook's side with requests.
"""

import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
IDP_MANAGE = ROOT / "sandbox" / "idp" / "manage.py"
PASSWORD = "friendbook-demo"

# Members with messy or oversized profiles: what a real network may send.
ODD_MEMBERS = [
    {
        "email": "mallory@friendbook.test",
        "first_name": "Mallory",
        "last_name": "Odd",
        "birthdate": "1990-13-45",
        "gender": "banana",
        "relationship_status": "<script>alert(1)</script>",
        "interests": ["x" * 500, 123, None, {"name": "Chess"}, "  Tea  ", "tea"]
        + [f"Interest {i}" for i in range(5000)],
    },
    {
        "email": "future@friendbook.test",
        "first_name": "Futura",
        "birthdate": "2999-01-01",
        "gender": "FEMALE",
        "relationship_status": "In a relationship",
        "interests": "Knitting, Opera",
    },
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FriendbookServer:
    def __init__(self, var_dir: Path, redirect_uris: list[str], members: list[dict] = ()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.var_dir = var_dir
        users = var_dir / "odd_members.json"
        users.write_text(json.dumps(ODD_MEMBERS + list(members)))
        env = self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))
        }
        env.update(FRIENDBOOK_VAR_DIR=str(var_dir), FRIENDBOOK_FAST_HASHER="1")
        args = [sys.executable, str(IDP_MANAGE), "friendbook_serve", f"127.0.0.1:{self.port}"]
        args += ["--users-json", str(users)]
        for uri in redirect_uris:
            args += ["--redirect-uri", uri]
        self.log = open(var_dir / "friendbook.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            args, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Friendbook exited: {(var_dir / 'friendbook.log').read_text()}")
            try:
                requests.get(f"{self.url}/.well-known/openid-configuration", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("Friendbook did not start in 60 s")

    def allow_redirects(self, uris: list[str]) -> None:
        """Register the store's callback URLs with Friendbook (the client's redirect URIs)."""
        args = [sys.executable, str(IDP_MANAGE), "friendbook_seed"]
        for uri in uris:
            args += ["--redirect-uri", uri]
        subprocess.run(args, env=self.env, check=True, capture_output=True, timeout=60)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    assert match, f"no {name} field in page"
    return html.unescape(match.group(1))


class Member:
    """A Friendbook member's browser session, driven without a browser."""

    def __init__(self, server: FriendbookServer, email: str):
        self.server = server
        self.email = email
        self.http = requests.Session()

    def _csrf(self) -> str:
        return self.http.cookies.get("friendbook_csrftoken", "")

    def authorize(self, authorize_url: str, *, action: str = "grant", untick=()) -> str:
        """Sign in if needed and answer the consent screen; return the redirect to the store."""
        response = self.http.get(authorize_url, allow_redirects=False, timeout=10)
        if response.status_code == 302 and "/accounts/login/" in response.headers["Location"]:
            login_url = urljoin(self.server.url, response.headers["Location"])
            page = self.http.get(login_url, timeout=10).text
            response = self.http.post(
                login_url,
                data={
                    "csrfmiddlewaretoken": _field(page, "csrfmiddlewaretoken"),
                    "login": self.email,
                    "password": PASSWORD,
                    "next": _field(page, "next"),
                },
                headers={"Referer": login_url},
                allow_redirects=False,
                timeout=10,
            )
            assert response.status_code == 302, response.text[:500]
            response = self.http.get(
                urljoin(self.server.url, response.headers["Location"]),
                allow_redirects=False,
                timeout=10,
            )
        assert response.status_code == 200, (response.status_code, response.text[:500])
        page = response.text
        scopes = re.findall(r'name="scopes" value="([^"]+)"', page)
        response = self.http.post(
            f"{self.server.url}/identity/o/authorize",
            data={
                "csrfmiddlewaretoken": _field(page, "csrfmiddlewaretoken"),
                "request": _field(page, "request"),
                "scopes": [s for s in scopes if s not in untick],
                "action": action,
            },
            headers={"Referer": authorize_url},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, (response.status_code, response.text[:500])
        return response.headers["Location"]


def local_path(url: str) -> str:
    """The path and query of a store URL, for Django's test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
