"""Signed links in campaign emails: open pixel, tracked clicks, unsubscribe, preferences.

Tokens are signed with the site's SECRET_KEY (``django.core.signing``), per purpose, so a link
cannot be forged or turned into another kind. A click link carries its target; ``safe_target``
accepts only this site's URLs (a relative path, or SITE_URL's scheme and host), so the redirect
can never be used to send someone elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

SALT = "outreach.message"
CLICK_SALT = "outreach.click"


def sign_message(pk: int) -> str:
    return signing.Signer(salt=SALT).sign(str(pk))


def unsign_message(token: str) -> int | None:
    try:
        value = signing.Signer(salt=SALT).unsign(token or "")
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def site_host() -> str:
    return urlsplit(settings.SITE_URL).netloc


def safe_target(url: str) -> str | None:
    """``url`` as a path or absolute URL of this site, or None when it points elsewhere."""
    if not url or "\\" in url or any(ord(ch) < 32 for ch in url):
        return None
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return url if url.startswith("/") and not url.startswith("//") else None
    site = urlsplit(settings.SITE_URL)
    if (parts.scheme, parts.netloc) != (site.scheme, site.netloc):
        return None
    if not url_has_allowed_host_and_scheme(
        url, allowed_hosts={site.netloc}, require_https=site.scheme == "https"
    ):
        return None
    return url


def open_url(pk: int) -> str:
    return absolute(reverse("outreach:open", args=[sign_message(pk)]))


def click_url(pk: int, target: str, *, product_id: int | None = None) -> str:
    """A tracked link to ``target`` (this site only; raises ValueError otherwise)."""
    if safe_target(target) is None:
        raise ValueError("Tracked links may only point at this site.")
    payload = {"m": pk, "u": target}
    if product_id:
        payload["p"] = product_id
    token = signing.dumps(payload, salt=CLICK_SALT, compress=True)
    return absolute(reverse("outreach:click") + "?" + urlencode({"t": token}))


def unsign_click(token: str) -> dict | None:
    try:
        payload = signing.loads(token or "", salt=CLICK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("m"), int):
        return None
    return payload


def unsubscribe_url(pk: int) -> str:
    return absolute(reverse("outreach:unsubscribe", args=[sign_message(pk)]))


def preferences_url(pk: int) -> str:
    return absolute(reverse("outreach:preferences_token", args=[sign_message(pk)]))


def unsubscribe_mailto(pk: int) -> str:
    address = getattr(settings, "OUTREACH_UNSUBSCRIBE_MAILBOX", "unsubscribe@agora.test")
    return f"mailto:{address}?subject=unsubscribe%20{sign_message(pk)}"


def list_unsubscribe_headers(pk: int) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe (https URL and mailto) with RFC 8058 one-click POST."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(pk)}>, <{unsubscribe_mailto(pk)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
