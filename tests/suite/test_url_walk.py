"""Walk the whole URL conf (issue 16 and issue 17 item 3).

1. Open redirects: every view gets the classic open-redirect forms as ``next`` (query string and
   form body, signed in as staff, so moderator views act) and no response may send the browser
   off-site: not in ``Location``, ``HX-Redirect`` or ``Refresh``, nor as a link or form action
   in the page.
2. CSRF and safe methods: a GET to any URL changes no data (every table is compared before and
   after), and a POST without a CSRF token changes no data either.

A URL with parameters needs an entry in ``KWARGS`` (built from the ``world`` fixture): a new
URL without one fails ``test_every_url_is_walked`` with a message saying what to add.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from social import consent
from social.engagement import services as engagement
from social.forums import services as forums
from social.forums.models import Notification
from social.reviews import services as reviews
from tests.community_factories import ForumCategoryFactory, OldUserFactory, order_for
from tests.factories import PASSWORD, ProductFactory, UserFactory

EVIL = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "%2F%2Fevil.example",
    "javascript:alert(document.domain)",
    "/%2F%2Fevil.example",
    "http://evil.example\\@testserver/",
    " //evil.example/",
]


@dataclass(frozen=True)
class Route:
    name: str  # namespace:name, or the route itself when unnamed
    route: str
    keys: tuple[str, ...]


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            full_ns = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else ns
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or route
            keys = tuple(entry.pattern.regex.groupindex) + tuple(
                re.findall(r"\(\?P<(\w+)>", prefix)
            )
            yield Route(name=name, route=route, keys=tuple(dict.fromkeys(keys)))


def routes() -> list[Route]:
    seen, found = set(), []
    for route in _walk(get_resolver().url_patterns):
        if route.name in seen:
            continue
        seen.add(route.name)
        found.append(route)
    return found


# URLs not walked, each with its reason.
NOT_WALKED = {
    "admin": "Django's admin: it redirects only to reversed admin URLs, and its login/logout "
    "`next` goes through Django's url_has_allowed_host_and_scheme (admin:login is walked)",
    "media/<path:path>": "static file serving; no redirects, no writes",
    "format": "DRF format-suffix duplicates of walked API URLs",
    "accounts/social/": "allauth's legacy redirects to the walked accounts/3rdparty/ URLs",
    "api/": "the REST API: no redirects; its permission matrix, CSRF-on-session and schemathesis "
    "runs (tests/api) walk every endpoint",
}


def _skipped(route: Route) -> str | None:
    if route.route.startswith("admin/") and route.name not in {"admin:login", "admin:logout"}:
        return NOT_WALKED["admin"]
    if route.route.startswith("media/"):
        return NOT_WALKED["media/<path:path>"]
    if "format" in route.keys:
        return NOT_WALKED["format"]
    if route.route.startswith("accounts/social/"):
        return NOT_WALKED["accounts/social/"]
    if route.route.startswith("api/"):
        return NOT_WALKED["api/"]
    return None


WALKED = [route for route in routes() if not _skipped(route)]


@pytest.fixture
def world(db):
    """One of everything a URL can point at, made through services as shoppers would."""
    staff = UserFactory(username="walker-staff", is_staff=True, is_superuser=True)
    shopper = OldUserFactory(username="walker-shopper")
    other = OldUserFactory(username="walker-other")
    product = ProductFactory(name="Walk Kettle")
    order = order_for(user=shopper, product=product)
    review = reviews.review_create(
        user=shopper, product=product, rating=4, title="Good kettle", body="Boils fast and quiet."
    )
    question = reviews.question_ask(user=shopper, product=product, text="Is the lid removable?")
    category = ForumCategoryFactory(name="Walk talk", slug="walk-talk")
    topic = forums.topic_create(
        user=shopper, category=category, title="Kettle tips", body="Descale it monthly."
    )
    post = forums.post_create(user=other, topic_id=topic.pk, body="Thanks @walker-shopper")
    note = Notification.objects.filter(user=shopper).first()
    assert note is not None, "the mention must have notified the shopper"
    engagement.profile_update(user=shopper, is_public=True, handle="walker-shopper")
    link = engagement.share_record(obj=product, channel="copy", user=shopper)
    assert review.pk and question.pk and post.pk and order.pk and link.code
    return {
        "staff": staff,
        "shopper": shopper,
        "other": other,
        "product": product,
        "order": order,
        "review": review,
        "question": question,
        "category": category,
        "topic": topic,
        "post": post,
        "note": note,
        "link": link,
    }


def _kwargs(route: Route, w) -> dict:
    """URL kwargs for ``route`` from the world; KeyError for an unknown route."""
    name = route.name
    table = {
        "social:permissions": {"provider_id": "friendbook"},
        "social:revoke": {"category": next(iter(consent.CATEGORIES))},
        "social:disconnect": {"account_id": 999999},
        "engagement:like": {"key": "product", "object_id": w["product"].pk},
        "engagement:share": {"key": "product", "object_id": w["product"].pk, "channel": "copy"},
        "engagement:referral": {"code": w["link"].code},
        "engagement:profile": {"handle": "walker-shopper"},
        "engagement:follow": {"handle": "walker-shopper"},
        "reviews:write": {"slug": w["product"].slug},
        "reviews:ask": {"slug": w["product"].slug},
        "reviews:delete": {"pk": w["review"].pk},
        "reviews:helpful": {"pk": w["review"].pk},
        "reviews:report": {"pk": w["review"].pk},
        "reviews:reply": {"pk": w["review"].pk},
        "reviews:answer": {"pk": w["question"].pk},
        "forums:notification": {"pk": w["note"].pk},
        "forums:category": {"slug": w["category"].slug},
        "forums:topic_new": {"slug": w["category"].slug},
        "forums:category_follow": {"slug": w["category"].slug},
        "forums:topic": {"pk": w["topic"].pk},
        "forums:reply": {"pk": w["topic"].pk},
        "forums:topic_follow": {"pk": w["topic"].pk},
        "forums:topic_moderate": {"pk": w["topic"].pk},
        "forums:post_edit": {"pk": w["post"].pk},
        "forums:post_delete": {"pk": w["post"].pk},
        "forums:post_report": {"pk": w["post"].pk},
        "forums:post_hide": {"pk": w["post"].pk},
        "forums:ban": {"user_id": w["other"].pk},
        "shop:category": {"slug": w["product"].category.slug},
        "shop:product": {"slug": w["product"].slug},
        "shop:cart_update": {"item_id": 999999},
        "shop:cart_remove": {"item_id": 999999},
        "shop:order_confirmation": {"number": w["order"].number},
        "shop:order_detail": {"number": w["order"].number},
        "product-detail": {"slug": w["product"].slug},
        "category-detail": {"slug": w["product"].category.slug},
        "order-detail": {"number": w["order"].number},
        "api-engagement-like": {"target": "product", "object_id": w["product"].pk},
        "account_confirm_email": {"key": "not-a-key"},
        "account_reset_password_from_key": {"uidb36": "1", "key": "not-a-key"},
        "openid_connect_login": {"provider_id": "friendbook"},
        "openid_connect_callback": {"provider_id": "friendbook"},
        "banners:why": {"decision_uuid": "0" * 32},
        "banners:click": {"decision_uuid": "0" * 32},
        "outreach:open": {"token": "not-a-token"},
        "outreach:unsubscribe": {"token": "not-a-token"},
        "outreach:preferences_token": {"token": "not-a-token"},
        "privacy:export_download": {"token": "not-a-token"},
        "privacy:reauth": {"provider_id": "friendbook"},
        "api:token_revoke": {"token_id": 999999},
    }
    if not route.keys:
        return {}
    kwargs = table[name]
    assert set(kwargs) == set(route.keys), f"{name}: kwargs {sorted(route.keys)} expected"
    return kwargs


# Form fields that let a view get as far as its redirect (the redirect is what is tested).
POST_DATA = {
    "forums:post_hide": {"hidden": "0"},
    "forums:ban": {"reason": "Walk test", "days": "1"},
    "forums:topic_moderate": {"action": "lock"},
    "forums:topic_follow": {"on": "1"},
    "forums:category_follow": {"on": "1"},
    "engagement:like": {"liked": "1"},
    "reviews:helpful": {},
    "reviews:report": {"reason": "Spam"},
    "forums:post_report": {"reason": "Spam"},
    "account_login": {"login": "walker-staff@example.test", "password": PASSWORD},
}


def _path(route: Route, world) -> str:
    from django.urls import reverse

    kwargs = _kwargs(route, world)
    if route.name == route.route:  # unnamed
        return "/" + route.route
    return reverse(route.name, kwargs=kwargs)


class _Targets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"href", "action", "formaction", "hx-get", "hx-post"} and value:
                self.urls.append(value)


def off_site(url: str, base: str = "http://testserver/here/") -> bool:
    """Would a browser leave testserver following ``url``? (WHATWG: backslashes are slashes,
    leading spaces and control characters are stripped.)"""
    cleaned = url.strip("\x00-\x20 \t\r\n").replace("\\", "/")
    resolved = urlsplit(urljoin(base, cleaned))
    return resolved.scheme not in {"http", "https", "mailto"} or (
        resolved.scheme != "mailto" and resolved.netloc != "testserver"
    )


def _leaks(response, evil: str) -> list[str]:
    found = []
    for header in ("Location", "HX-Redirect", "HX-Location", "Refresh"):
        value = response.headers.get(header)
        if value is None:
            continue
        if header == "Refresh":
            value = value.split("url=", 1)[-1]
        if off_site(value):
            found.append(f"{header}: {value}")
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type and not getattr(response, "streaming", False):
        parser = _Targets()
        parser.feed(response.content.decode(errors="replace"))
        for url in parser.urls:
            if url.strip() in {evil, evil.strip()} and off_site(url):
                found.append(f"link to {url}")
    return found


def test_off_site_detects_every_form():
    from config.redirects import is_own_url

    assert not any(is_own_url(url) for url in EVIL)  # the one check refuses every form
    # The walk's detector sees each form that leaves the site when a browser follows it
    # (the percent-encoded ones stay on a relative path of this site).
    assert all(off_site(url) for url in EVIL if "%2F" not in url)
    assert not off_site("/forums/t/1/") and not off_site("?page=2") and not off_site("#x")


def test_every_url_is_walked():
    """A new URL with parameters needs an entry in _kwargs (or a reason in NOT_WALKED)."""
    source = Path(__file__).read_text()
    missing = [route.name for route in WALKED if route.keys and f'"{route.name}":' not in source]
    assert missing == [], f"add URL kwargs for {missing} to _kwargs in tests/suite/test_url_walk.py"


def _signed_in(world, who="staff", **client_kwargs) -> Client:
    client = Client(**client_kwargs)
    client.force_login(world[who], backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/account/orders/")
    assert response.status_code == 200, "the walker must be signed in"
    return client


@pytest.mark.parametrize("route", WALKED, ids=[route.name for route in WALKED])
def test_no_view_redirects_off_site(route, world):
    path = _path(route, world)
    leaks = []
    client = _signed_in(world)
    for evil in EVIL:
        client.force_login(world["staff"], backend="django.contrib.auth.backends.ModelBackend")
        get = client.get(path, {"next": evil}, headers={"referer": evil})
        leaks += [f"GET {path}?next={evil} -> {leak}" for leak in _leaks(get, evil)]
        data = {"next": evil, **POST_DATA.get(route.name, {})}
        post = client.post(path, data, headers={"referer": evil})
        leaks += [f"POST {path} next={evil} -> {leak}" for leak in _leaks(post, evil)]
    assert leaks == []


def test_moderator_next_back_to_this_site_is_honoured(world):
    """The check keeps this site's own targets (so the walk above can tell refusal apart)."""
    client = _signed_in(world)
    post = world["post"]
    response = client.post(
        f"/forums/posts/{post.pk}/hide/", {"hidden": "1", "next": "/forums/moderation/?x=1"}
    )
    assert response.status_code == 302 and response["Location"] == "/forums/moderation/?x=1"
    post.refresh_from_db()
    assert post.is_hidden
    response = client.post(
        f"/forums/posts/{post.pk}/hide/", {"hidden": "0", "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == post.get_absolute_url()
    post.refresh_from_db()
    assert not post.is_hidden


def test_sign_in_next_stays_on_this_site(world):
    for evil in EVIL:
        client = Client()
        response = client.post(
            "/accounts/login/?next=" + evil,
            {"login": world["shopper"].email, "password": PASSWORD, "next": evil},
        )
        assert response.status_code == 302, evil
        assert "_auth_user_id" in client.session, "the sign-in itself must succeed"
        assert not off_site(response["Location"]), (evil, response["Location"])
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"login": world["shopper"].email, "password": PASSWORD, "next": "/cart/"},
    )
    assert response["Location"] == "/cart/"


# --- CSRF and safe methods -----------------------------------------------------------------

# Tables whose rows a GET may add or change, each with its reason.
GET_MAY_WRITE = {
    "personalization.event": "the append-only analytics log records page views",
    "sessions.session": "a session is the browser's, not shop data",
    "engagement.sharevisit": "following a shared link (a GET from outside) is the visit",
    "account.emailaddress": "allauth's email page records the account's own address on first "
    "view (nothing the shopper entered)",
    "engagement.publicprofile": "the profile settings page creates the private default row on "
    "first view (nothing public, nothing the shopper entered)",
    "forums.topicread": "the read position of a topic moves when the shopper reads it",
    "forums.notification": "opening a notification marks it read",
}


def _snapshot(skip: set[str]) -> dict[str, str]:
    """What each table holds now, keyed by model label, to compare before and after a request.

    On PostgreSQL: the rows this transaction inserted, updated and deleted per table
    (``pg_stat_xact_user_tables``; the test runs in one transaction), a single query that also
    sees an UPDATE writing the same values. Elsewhere: a digest of every row.
    """
    if connection.vendor == "postgresql":
        labels = {
            model._meta.db_table: model._meta.label_lower
            for model in apps.get_models()
            if model._meta.label_lower not in skip and not model._meta.proxy and model._meta.managed
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
                " WHERE schemaname = current_schema()"
            )
            writes = {name: f"{ins}:{upd}:{dele}" for name, ins, upd, dele in cursor.fetchall()}
        return {label: writes.get(table, "0:0:0") for table, label in labels.items()}
    state = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in skip or model._meta.proxy or not model._meta.managed:
            continue
        rows = list(model._base_manager.order_by("pk").values())
        digest = hashlib.sha1(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()
        state[label] = f"{len(rows)}:{digest}"
    return state


def _changed(before, after) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))


@pytest.mark.parametrize("route", WALKED, ids=[route.name for route in WALKED])
def test_get_changes_no_data(route, world):
    path = _path(route, world)
    changed = []
    for who in ("staff", "shopper"):
        client = _signed_in(world, who)
        client.get("/")  # the session and cart cookies exist before we look
        before = _snapshot(set(GET_MAY_WRITE))
        client.get(path, {"next": "/"})
        changed += [f"{who}: {label}" for label in _changed(before, _snapshot(set(GET_MAY_WRITE)))]
    assert changed == [], f"GET {path} changed data; make it POST-only with CSRF"


@pytest.mark.parametrize("route", WALKED, ids=[route.name for route in WALKED])
def test_post_without_csrf_token_changes_no_data(route, world):
    path = _path(route, world)
    client = _signed_in(world, "staff", enforce_csrf_checks=True)
    before = _snapshot(set(GET_MAY_WRITE))
    response = client.post(path, {"next": "/", **POST_DATA.get(route.name, {})})
    assert _changed(before, _snapshot(set(GET_MAY_WRITE))) == [], (
        f"POST {path} without a CSRF token changed data (answered {response.status_code})"
    )


def test_csrf_walk_can_fail(world):
    """The snapshot sees a write: the same POST with a token does change data."""
    client = _signed_in(world, "staff")
    before = _snapshot(set(GET_MAY_WRITE))
    response = client.post(f"/forums/posts/{world['post'].pk}/hide/", {"hidden": "1"})
    assert response.status_code == 302
    assert "forums.post" in _changed(before, _snapshot(set(GET_MAY_WRITE)))
