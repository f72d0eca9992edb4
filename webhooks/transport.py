"""Sending a webhook request safely: no request to the store's own network by accident.

``check_url`` refuses URLs whose host resolves to a loopback, private, link-local, multicast,
reserved or cloud metadata address (169.254.169.254, fd00:ec2::254), and non-http(s) schemes.
It runs when staff save an endpoint and again at every send. The HTTP connection then checks
the address it actually connected to (so DNS rebinding between the check and the connect does
not get through), follows no redirects and ignores proxy environment variables.
``WEBHOOKS_ALLOW_PRIVATE_TARGETS = True`` lifts the address rule (tests and local receivers).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeTarget(Exception):
    """The URL points at an address the store refuses to call."""


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_TARGETS", False))


def check_address(address: str) -> None:
    """Raise UnsafeTarget for a non-public IP address (unless allowed by the setting)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in METADATA:
        raise UnsafeTarget(f"{ip} is a cloud metadata address.")
    if private_allowed():
        return
    if (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        raise UnsafeTarget(f"{ip} is not a public address.")


def check_url(url: str) -> None:
    """Raise UnsafeTarget unless ``url`` is http(s) and every address its host resolves to is
    allowed. Resolution failures are UnsafeTarget too (nothing to send to)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeTarget("Only http and https URLs with a host can receive webhooks.")
    if parts.username or parts.password:
        raise UnsafeTarget("Put no credentials in the URL; verify the signature instead.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeTarget(f"{parts.hostname} does not resolve ({error}).") from None
    for info in infos:
        check_address(info[4][0])


def _checked(sock):
    try:
        check_address(sock.getpeername()[0])
    except UnsafeTarget:
        sock.close()
        raise
    return sock


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        return _checked(super()._new_conn())


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        return _checked(super()._new_conn())


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no proxies from the environment
    s.mount("http://", _GuardedAdapter(max_retries=0))
    s.mount("https://", _GuardedAdapter(max_retries=0))
    return s


def post(url: str, *, body: bytes, headers: dict, timeout: float) -> requests.Response:
    """POST after ``check_url``; raises UnsafeTarget or a requests exception."""
    check_url(url)
    with session() as s:
        return s.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
