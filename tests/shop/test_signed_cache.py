"""Signed-in shoppers' store pages from the cache (shop.signed, issue 15).

A shopper's page is kept under their own id and served to their next request after the same
session check Django makes; nothing of one shopper reaches another or an anonymous visitor,
changes made through the services show on the next request, the session lives as Django would
let it, CSRF works from a served page, banners and view events stay per view, and a Redis that
does not answer costs the page nothing but speed.
"""

import re
import time
from decimal import Decimal
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from personalization.banners import services as banner_services
from personalization.banners.models import Banner, BannerDecision, BannerVariant, Placement
from personalization.models import Event
from personalization.selectors import profile_cache_forget
from shop import cart as carts
from shop import signed
from shop.models import Cart, Product
from social.engagement.services import follow, like_add, profile_update
from tests.factories import (
    UserFactory,
)
from tests.redisdown import dead_redis_caches

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture(autouse=True)
def caches_on(settings):
    settings.AGORA_PAGE_CACHE = True
    settings.AGORA_SIGNED_PAGE_CACHE = True


def state(response) -> str:
    return response.headers.get(signed.HEADER, "")


def shopper_client(user, **kwargs) -> Client:
    """A browser signed in as ``user`` (as allauth signs in), with its CSRF cookie."""
    client = Client(**kwargs)
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    client.get(reverse("shop:cart"))  # any page: the CSRF cookie is set
    assert settings.CSRF_COOKIE_NAME in client.cookies
    return client


def warm(client, url) -> None:
    """Render and store ``url`` for ``client``'s shopper, then serve it once (which makes it
    this process's copy): the next request is a hit in one round trip, so every check after
    ``warm`` is made against the process copy's path."""
    first = client.get(url)
    assert first.status_code == 200 and state(first) == "miss", state(first)
    second = client.get(url)
    assert state(second) == "hit", state(second)
    assert _memo_key(client, url) in signed.MEMO._copies


def cart_badge(html: str) -> str:
    return re.search(r'<span id="cart-count"[^>]*>(\d+)</span>', html).group(1)


def add_to_cart(user, product, quantity=1):
    cart = Cart.objects.get_or_create(user=user)[0]
    carts.cart_add(cart=cart, variant_id=product.variants.first().pk, quantity=quantity)


def test_a_hit_is_the_normal_page_without_a_query(runner):
    """No query but the view or search event's insert (tests insert events at once;
    production streams them to Redis)."""
    ana = UserFactory()
    client = shopper_client(ana)
    for url in (reverse("shop:home"), runner.get_absolute_url(), "/products/?q=trail"):
        rendered = client.get(url)
        assert state(rendered) == "miss", url
        with CaptureQueriesContext(connection) as queries:
            served = client.get(url)
        assert all(q["sql"].startswith('INSERT INTO "personalization_event"') for q in queries)
        assert len(queries) == (0 if url == reverse("shop:home") else 1), url
        assert state(served) == "hit", url
        assert served.status_code == 200
        token = re.compile(rb'(name="csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+"')
        assert token.sub(b"T", served.content) == token.sub(b"T", rendered.content), url
        assert b"Sign out" in served.content and signed.CSRF_PLACEHOLDER.encode() not in (
            served.content
        )
        assert served["Content-Length"] == str(len(served.content))


def test_the_headers_are_the_normal_render_s(runner):
    client = shopper_client(UserFactory())
    url = runner.get_absolute_url()
    rendered = client.get(url)
    served = client.get(url)
    assert state(served) == "hit"
    skip = {signed.HEADER.lower(), "content-length"}
    assert {k: v for k, v in served.items() if k.lower() not in skip} == {
        k: v for k, v in rendered.items() if k.lower() not in skip
    }
    assert "Cookie" in served["Vary"]
    # the CSRF cookie is renewed exactly as Django renews it; no session cookie is set
    assert set(served.cookies) == set(rendered.cookies) == {settings.CSRF_COOKIE_NAME}
    mine, theirs = (
        served.cookies[settings.CSRF_COOKIE_NAME],
        rendered.cookies[settings.CSRF_COOKIE_NAME],
    )
    assert mine.value == theirs.value
    for attribute in ("max-age", "path", "samesite", "secure", "httponly", "domain"):
        assert mine[attribute] == theirs[attribute], attribute


def test_a_shopper_s_parts_never_reach_another_shopper_or_a_visitor(runner):
    ana, bo = UserFactory(), UserFactory()
    add_to_cart(ana, runner, quantity=3)
    like_add(user=ana, obj=runner)
    url = runner.get_absolute_url()
    as_ana = shopper_client(ana)
    warm(as_ana, url)
    page = as_ana.get(url)
    assert state(page) == "hit" and cart_badge(page.content.decode()) == "3"
    as_bo = shopper_client(bo)
    theirs = as_bo.get(url)
    assert state(theirs) == "miss", "another shopper was served the first shopper's page"
    assert cart_badge(theirs.content.decode()) == "0"
    assert cart_badge(as_bo.get(url).content.decode()) == "0"
    visitor = Client().get(url)
    assert "Sign out" not in visitor.content.decode()
    assert cart_badge(visitor.content.decode()) == "0"
    # Bo's session cookie with Ana's... nothing: keys are per user id from the checked session
    assert cart_badge(as_ana.get(url).content.decode()) == "3"


def test_each_personal_part_changes_on_the_next_request(runner):
    ana, cy = UserFactory(), UserFactory(first_name="Cyra")
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    # the cart count (cart services)
    add_to_cart(ana, runner, quantity=2)
    page = client.get(url)
    assert state(page) == "miss" and cart_badge(page.content.decode()) == "2"
    assert state(client.get(url)) == "hit"
    # whom the shopper follows ("liked by people you follow")
    profile_update(user=cy, is_public=True, likes_public=True, display_name="Cyra")
    like_add(user=cy, obj=runner)
    client.get(url)
    assert "Cyra" not in client.get(url).content.decode()
    follow(follower=ana, handle=cy.public_profile.handle)
    page = client.get(url)
    assert state(page) == "miss" and "Liked by" in page.content.decode()
    assert "Cyra" in page.content.decode()
    # their own like (a storefront change)
    like_add(user=ana, obj=runner)
    assert state(client.get(url)) == "miss"
    # a price (a storefront change)
    Product.objects.filter(pk=runner.pk).update(price=Decimal("65.00"))
    runner.refresh_from_db()
    runner.save()
    page = client.get(url)
    assert state(page) == "miss" and "65.00" in page.content.decode()
    # picks and profile forgotten (a profile build, a personalization choice)
    assert state(client.get(url)) == "hit"
    profile_cache_forget(user_ids=[ana.pk])
    assert state(client.get(url)) == "miss"
    # the user row (a name change, a flag)
    ana.first_name = "Anabel"
    ana.save()
    assert state(client.get(url)) == "miss"


def test_another_shopper_s_change_leaves_this_shopper_s_page_cached(runner):
    ana, bo = UserFactory(), UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    add_to_cart(bo, runner)
    assert state(client.get(url)) == "hit"


def test_signed_out_elsewhere_the_page_is_anonymous(runner):
    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    import_module(settings.SESSION_ENGINE).SessionStore(key).delete()  # "sign out everywhere"
    page = client.get(url)
    assert state(page) == "" and "Sign out" not in page.content.decode()


def test_a_changed_password_signs_the_session_out(runner):
    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    ana.set_password("another-pass-456")
    ana.save()
    page = client.get(url)
    assert state(page) == "" and "Sign out" not in page.content.decode()


def test_a_session_hash_that_does_not_match_is_not_served(runner):
    """Even if the shopper's version were not forgotten, the session's auth hash must equal
    the one the page was rendered under."""
    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    store["_auth_user_hash"] = "0" * 64
    store.save()
    page = client.get(url)
    assert state(page) == "" and "Sign out" not in page.content.decode()


def test_an_inactive_shopper_is_not_served(runner):
    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    get_user_model().objects.filter(pk=ana.pk).update(is_active=False)
    ana.refresh_from_db()
    ana.save()  # the admin's save
    page = client.get(url)
    assert "Sign out" not in page.content.decode()


def test_an_expired_session_is_not_served(runner):
    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = import_module(settings.SESSION_ENGINE).SessionStore(key)
    store.set_expiry(2)
    store.save()
    warm(client, url)
    assert state(client.get(url)) == "hit"
    time.sleep(2.5)
    page = client.get(url)
    assert state(page) == "" and "Sign out" not in page.content.decode()


def test_a_hit_does_not_save_the_session(runner):
    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    from django.contrib.sessions.models import Session

    before = Session.objects.get(session_key=key).expire_date
    served = client.get(url)
    assert state(served) == "hit"
    assert settings.SESSION_COOKIE_NAME not in served.cookies
    assert Session.objects.get(session_key=key).expire_date == before


def test_csrf_post_from_a_served_page(runner):
    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana, enforce_csrf_checks=True)
    warm(client, url)
    page = client.get(url)
    assert state(page) == "hit"
    html = page.content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert token != signed.CSRF_PLACEHOLDER and len(token) == 64
    action = re.search(r'<form method="post" action="([^"]+)" class="add-to-cart">', html)
    variant = re.search(r'<option value="(\d+)"', html).group(1)
    response = client.post(
        action.group(1), {"variant": variant, "quantity": 1, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Cart.objects.get(user=ana).items.get().variant_id == int(variant)
    # the message queued by the add goes through Django, then the cart count is new
    after = client.get(url)
    assert state(after) == "" and "Added 1" in after.content.decode()
    page = client.get(url)
    assert state(page) == "miss" and cart_badge(page.content.decode()) == "1"


def test_a_hit_records_the_view_for_the_shopper(runner):
    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    for _ in range(3):
        client.get(url)
    assert state(client.get(url)) == "hit"
    views = Event.objects.filter(kind=Event.Kind.VIEW, user=ana, product=runner)
    assert views.count() == 4


def test_each_hit_chooses_and_records_its_own_banner(runner):
    with TestCase.captureOnCommitCallbacks(execute=True):
        banner = Banner.objects.create(name="Everyone", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(banner=banner, name="A", headline="Hello everybody")
        banner_services.banners_changed()
    ana = UserFactory()
    client = shopper_client(ana)
    url = reverse("shop:home")
    warm(client, url)
    uuids = []
    for _ in range(3):
        page = client.get(url)
        assert state(page) == "hit"
        html = page.content.decode()
        assert "Hello everybody" in html and "agora-hole" not in html
        uuids.append(re.search(r'href="/banners/([0-9a-f]+)/why/"', html).group(1))
    assert len(set(uuids)) == 3, "a cached page reused another view's decision"
    banner_services.banner_decisions_flush()
    mine = BannerDecision.objects.filter(user=ana).values_list("uuid", flat=True)
    assert {str(u).replace("-", "") for u in mine} >= set(uuids)


def test_staff_pages_and_htmx_are_never_kept(runner):
    staff = UserFactory(is_staff=True)
    client = shopper_client(staff)
    url = runner.get_absolute_url()
    client.get(url)
    page = client.get(url)
    assert state(page) == "" and "Admin" in page.content.decode()
    shopper = shopper_client(UserFactory())
    assert state(shopper.get(url, headers={"HX-Request": "true"})) == ""
    assert state(shopper.get(url + "?unknown=1")) == ""


def test_redis_down_renders_the_page(runner, settings):
    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    dead = dead_redis_caches(settings.CACHES)
    with override_settings(CACHES=dead):
        page = client.get(url)
        assert page.status_code == 200 and state(page) == ""
        assert "Trail runner" in page.content.decode()
    assert state(client.get(url)) in ("hit", "miss")


def test_a_forum_notification_shows_its_count_on_the_next_request(runner):
    from social.forums.services import notifications_mark_read, subscription_set, topic_create
    from tests.community_factories import ForumCategoryFactory, OldUserFactory

    ana, poster = UserFactory(), OldUserFactory()
    forum = ForumCategoryFactory()
    subscription_set(user=ana, category=forum, on=True)
    url = reverse("shop:home")
    client = shopper_client(ana)
    warm(client, url)
    assert "unread forum notification" not in client.get(url).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        topic_create(user=poster, category=forum, title="Trail tips", body="Share yours here.")
    page = client.get(url)
    assert state(page) == "miss"
    assert 'aria-label="1 unread forum notification"' in page.content.decode()
    notifications_mark_read(user=ana)
    assert "unread forum notification" not in client.get(url).content.decode()


def _session_digest(client) -> str:
    import hashlib

    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def test_a_session_only_in_the_database_is_read_from_there(runner):
    """cached_db: a session the cache lost is read from PostgreSQL, as Django reads it."""
    from django.core.cache import cache

    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    store = import_module(settings.SESSION_ENGINE).SessionStore(
        client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    cache.delete(store.cache_key)
    page = client.get(url)
    assert state(page) == "hit" and "Sign out" in page.content.decode()


def _memo_key(client, url) -> str:
    from django.test import RequestFactory

    from shop.pagecache import page_address_digest

    digest = page_address_digest(RequestFactory().get(url))
    return f"{_session_digest(client)}:{digest}"


def test_a_process_copy_needs_no_stored_page_but_the_same_session_and_versions(runner):
    """The copy's hit reads only the session and the versions (one script, every key
    declared): it serves with the stored page gone, never for another session."""
    from django.core.cache import cache

    ana = UserFactory()
    add_to_cart(ana, runner, quantity=2)
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    digest = _memo_key(client, url).split(":")[1]
    key = signed.PAGE_KEY.format(_session_digest(client), digest)
    assert cache.get(key) is not None
    cache.delete(key)
    page = client.get(url)
    assert state(page) == "hit" and cart_badge(page.content.decode()) == "2"
    other = shopper_client(ana)  # the same shopper, another session: not this copy
    assert state(other.get(url)) == "miss"


def test_a_process_copy_s_hit_loads_its_script_when_redis_does_not_know_it(runner, monkeypatch):
    """The hit's script runs by its SHA on the process's own connection; a Redis that does not
    know it (restarted, flushed) gets it loaded and the hit is still one. A script new to the
    server (the same one with a unique comment) stands for a flushed one: SCRIPT FLUSH would
    flush every other user's scripts on the shared server too."""
    import hashlib
    from uuid import uuid4

    from config.cache import raw_redis

    ana = UserFactory()
    add_to_cart(ana, runner, quantity=3)
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    script = f"{signed.HIT_SCRIPT}-- {uuid4().hex}\n"
    sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324
    redis_client = raw_redis()
    assert redis_client.script_exists(sha) == [False], "precondition: unknown to Redis"
    monkeypatch.setattr(signed, "HIT_SCRIPT", script)
    monkeypatch.setattr(signed, "HIT_SCRIPT_SHA", sha)
    page = client.get(url)
    assert state(page) == "hit" and cart_badge(page.content.decode()) == "3"
    assert redis_client.script_exists(sha) == [True]


@pytest.mark.parametrize("change", ["storefront", "shopper", "segments", "session"])
def test_a_process_copy_is_checked_again_after_any_change(runner, change):
    from django.core.cache import cache

    from personalization.segments.selectors import CACHE_KEY as SEGMENTS_KEY
    from shop import pagecache

    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    before = signed.MEMO._copies[_memo_key(client, url)]
    if change == "storefront":
        pagecache.storefront_changed()
        expected = "miss"
    elif change == "shopper":
        signed.shoppers_changed([ana.pk])
        expected = "miss"
    elif change == "segments":  # the banner's input: the copy is rebuilt with the new one
        cache.set(SEGMENTS_KEY.format(ana.pk), (True, frozenset({424242})), 60)
        expected = "hit"
    else:  # the session saved with other data (still signed in): checked again
        store = import_module(settings.SESSION_ENGINE).SessionStore(
            client.cookies[settings.SESSION_COOKIE_NAME].value
        )
        store["something"] = "else"
        store.save()
        expected = "hit"
    assert state(client.get(url)) == expected
    if expected == "miss":  # rendered and stored again; the next request makes a new copy
        assert _memo_key(client, url) not in signed.MEMO._copies, "an out-of-date copy kept"
        assert state(client.get(url)) == "hit"
    after = signed.MEMO._copies.get(_memo_key(client, url))
    assert after is not before
    if change == "segments":
        assert after.segments == (True, frozenset({424242}))


def _environ(client, url, method="GET", cookie=None) -> dict:
    """The WSGI environ of ``client``'s request for ``url``, with its cookies (or ``cookie``)."""
    from tests.shop.test_page_cache import wsgi_environ

    if cookie is None:
        cookie = "; ".join(f"{name}={m.value}" for name, m in client.cookies.items())
    return wsgi_environ(url, method=method, **({"cookie": cookie} if cookie else {}))


def _recording_django(passed: list):
    """A stand-in for Django behind the wrapper: answers 204 and appends to ``passed`` what the
    wrapper's lookup left in the environ for the middleware."""

    def django(environ, start_response):
        passed.append(environ.get(signed.LOOKED))
        start_response("204 No Content", [])
        return [b""]

    return django


def _call(application, environ) -> tuple[str, list, bytes]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    body = application(environ, start_response)
    content = b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return seen["status"], seen["headers"], content


def test_the_wsgi_wrapper_serves_the_shopper_s_hit_with_every_middleware_s_headers(runner):
    """Before Django's handler: the same headers as the rendered page (security, CSP,
    Permissions-Policy stored with it), the CSRF cookie renewed as Django renews it, and a
    token that unmasks to the shopper's own secret."""
    from django.middleware.csrf import _unmask_cipher_token

    from config.wsgi import application

    ana = UserFactory()
    add_to_cart(ana, runner, quantity=3)
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    rendered = client.get(url)
    assert state(rendered) == "miss"
    status, headers, body = _call(application, _environ(client, url))
    assert status == "200 OK"
    names = [name for name, _ in headers]
    assert dict(headers)[signed.HEADER] == "hit"
    assert cart_badge(body.decode()) == "3" and b"Sign out" in body
    skip = {signed.HEADER.lower(), "content-length", "set-cookie"}
    assert {k: v for k, v in headers if k.lower() not in skip} == {
        k: v for k, v in rendered.items() if k.lower() not in skip
    }
    for name in ("Content-Security-Policy", "Permissions-Policy", "X-Content-Type-Options"):
        assert name in names, name
    assert dict(headers)["Content-Length"] == str(len(body))
    cookies = [value for name, value in headers if name == "Set-Cookie"]
    secret = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert len(cookies) == 1 and cookies[0].strip().startswith(
        f"{settings.CSRF_COOKIE_NAME}={secret};"
    )
    theirs = rendered.cookies[settings.CSRF_COOKIE_NAME].output(header="").strip()
    expires = re.compile(r"expires=[^;]+; ")
    assert expires.sub("", cookies[0].strip()) == expires.sub("", theirs)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    assert _unmask_cipher_token(token) == secret
    head = _call(application, _environ(client, url, method="HEAD"))
    assert head[2] == b"" and dict(head[1])[signed.HEADER] == "hit"


def test_the_wsgi_wrapper_never_serves_another_session_or_a_visitor(runner):
    """What the wrapper does not answer goes to Django (here a stand-in that records it),
    with what the lookup found for the middleware."""
    from django.middleware.csrf import _unmask_cipher_token

    passed = []
    application = signed.SignedPageCacheApplication(_recording_django(passed))
    ana, bo = UserFactory(), UserFactory()
    add_to_cart(ana, runner, quantity=3)
    url = runner.get_absolute_url()
    as_ana, as_bo = shopper_client(ana), shopper_client(bo)
    warm(as_ana, url)
    status, headers, body = _call(application, _environ(as_bo, url))
    assert status.startswith("204") and passed[-1].kind == "render"
    assert passed[-1].user_id == str(bo.pk)
    # Ana's session cookie with Bo's CSRF cookie: Ana's page, a token of that CSRF cookie
    session = as_ana.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = as_bo.cookies[settings.CSRF_COOKIE_NAME].value
    mixed = f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"
    status, headers, body = _call(application, _environ(as_ana, url, cookie=mixed))
    assert status == "200 OK" and cart_badge(body.decode()) == "3"
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    assert _unmask_cipher_token(token) == csrf
    count = len(passed)
    status, headers, body = _call(application, _environ(as_ana, url, cookie=""))
    assert status.startswith("204") and len(passed) == count + 1 and passed[-1] is None
    # signed out elsewhere: the wrapper does not answer
    import_module(settings.SESSION_ENGINE).SessionStore(session).delete()
    status, headers, body = _call(application, _environ(as_ana, url))
    assert status.startswith("204") and passed[-1].kind == "pass"


def test_the_wsgi_wrapper_passes_to_django_once_when_redis_is_down(runner, settings):
    passed = []
    application = signed.SignedPageCacheApplication(_recording_django(passed))
    url = runner.get_absolute_url()
    client = shopper_client(UserFactory())
    warm(client, url)
    dead = dead_redis_caches(settings.CACHES)
    with override_settings(CACHES=dead):
        status, headers, body = _call(application, _environ(client, url))
    assert status.startswith("204") and passed == [signed.PASS], "the middleware asks no more"
    status, headers, body = _call(application, _environ(client, url))
    assert status == "200 OK" and dict(headers)[signed.HEADER] == "hit"


def test_a_masked_token_unmasks_to_the_secret_with_a_new_mask_each_time():
    from django.middleware.csrf import (
        CSRF_ALLOWED_CHARS,
        _get_new_csrf_string,
        _unmask_cipher_token,
    )

    secret = _get_new_csrf_string()
    tokens = {signed._mask(secret) for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert len(token) == 64 and set(token) <= set(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == secret


def test_the_privacy_registry_forgets_a_shopper_s_pages(runner):
    from privacy import registry

    ana = UserFactory()
    url = runner.get_absolute_url()
    client = shopper_client(ana)
    warm(client, url)
    assert state(client.get(url)) == "hit"
    registry.cache_forgetters()["shop: signed-in store pages"](user_ids=[ana.pk])
    assert state(client.get(url)) == "miss"
