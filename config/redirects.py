"""The one check every redirect target in Agora goes through: only this site's own URLs.

Every ``next`` (query string or form), allauth's login/logout/signup ``next`` (through
``social.adapter.AgoraAccountAdapter.is_safe_url``) and any other redirect built from input
calls :func:`safe_url`. ``tests/suite/test_url_walk.py`` walks the URL conf and feeds the classic
open-redirect forms to every view.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

# ASCII control characters and whitespace browsers strip or ignore before resolving a URL.
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


def _own_hosts(request) -> set[str]:
    hosts = {urlsplit(settings.SITE_URL).netloc}
    if request is not None:
        hosts.add(request.get_host())
    return {host for host in hosts if host}


def is_own_url(candidate: str | None, *, request=None) -> bool:
    """True only for a URL that stays on this site.

    Accepted: a path beginning with exactly one ``/`` (``/forums/t/3/?page=2#post-9``), or an
    absolute ``http``/``https`` URL whose host is this site's (``SITE_URL``'s or the request's,
    which Django has already checked against ``ALLOWED_HOSTS``). Refused, whatever their
    encoding: other hosts, scheme-relative ``//host``, backslashes (``/\\host``, ``\\\\host``,
    which browsers read as slashes), ``scheme:`` forms without ``//`` (``https:host``,
    ``javascript:``), relative paths (``%2F%2Fhost``, ``next/page``), whitespace or control
    characters anywhere, and values whose percent-decoding would turn into any of these.
    Rules follow Django's ``url_has_allowed_host_and_scheme`` plus the WHATWG URL parser's
    treatment of backslashes and stripped characters.
    """
    if not candidate or not isinstance(candidate, str) or len(candidate) > 2000:
        return False
    if _UNSAFE_CHARS.search(candidate) or "\\" in unquote(candidate):
        return False
    hosts = _own_hosts(request)
    if candidate.startswith("/"):
        decoded = unquote(candidate)
        if candidate.startswith("//") or decoded.startswith("//"):
            return False
        return url_has_allowed_host_and_scheme(candidate, allowed_hosts=hosts)
    parts = urlsplit(candidate)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    if not candidate.lower().startswith(f"{parts.scheme}://"):
        return False
    if request is not None and request.is_secure() and parts.scheme != "https":
        return False
    return parts.netloc in hosts and url_has_allowed_host_and_scheme(candidate, allowed_hosts=hosts)


def safe_url(candidate: str | None, *, request=None, fallback: str) -> str:
    """``candidate`` when :func:`is_own_url` accepts it, otherwise ``fallback`` (which the
    caller builds from ``reverse`` or a model's URL, never from input)."""
    return candidate if is_own_url(candidate, request=request) else fallback


def next_url(request, *, fallback: str, field: str = "next") -> str:
    """The request's ``next`` (POST first, then the query string) if it is this site's own URL,
    otherwise ``fallback``."""
    candidate = request.POST.get(field) or request.GET.get(field)
    return safe_url(candidate, request=request, fallback=fallback)


def redirect_next(request, *, fallback, field: str = "next"):
    """A redirect to the request's own-site ``next``, else to ``fallback`` (a URL, a URL name
    or a model with ``get_absolute_url``, as ``django.shortcuts.redirect`` takes)."""
    candidate = request.POST.get(field) or request.GET.get(field)
    if is_own_url(candidate, request=request):
        return redirect(candidate)
    return redirect(fallback)
