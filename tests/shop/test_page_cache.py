"""The whole-page cache for visitors without cookies (shop.pagecache, issue 15).

A hit serves the stored bytes; what a shopper sees stays right: changes made through the
services show on the next request, a visitor with a cookie or signed in never gets a cached page
and never fills the cache, CSRF works on a cached page, banners and view events stay per view,
and a Redis that does not answer costs the page nothing but speed.
"""

import contextlib
import gc
import io
import re
import socket
import sys
import uuid
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.template import Context, Template
from django.test import Client, RequestFactory, TestCase, override_settings
from django.urls import reverse
from django.utils.safestring import SafeData

from config.cache import raw_redis
from config.wsgi import application
from personalization import events
from personalization.banners import services as banner_services
from personalization.banners.models import Banner, BannerDecision, BannerVariant, Placement
from personalization.models import Event
from shop import pagecache
from shop.models import Cart, Order
from shop.services import product_reindex
from social.engagement.services import like_add
from social.reviews.services import review_create, review_moderate
from tests.factories import (
    UserFactory,
    checkout_post,
)
from tests.redisdown import dead_redis_caches

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

SECRET = "Abcdefghijklmnopqrstuvwxyz012345"  # 32 characters, as agora.js makes them


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.AGORA_PAGE_CACHE = True


def pages(product):
    return [
        reverse("shop:home"),
        reverse("shop:product_list"),
        reverse("shop:product_list") + "?sort=price&page=1",
        reverse("shop:category", args=["shoes"]),
        reverse("shop:product_list") + "?q=trail",
        product.get_absolute_url(),
    ]


def cached(response) -> str:
    return response.headers.get(pagecache.HEADER, "")


def test_a_hit_serves_the_same_page_without_a_query(runner, django_assert_num_queries):
    for path in pages(runner):
        first = Client().get(path)
        assert first.status_code == 200 and cached(first) == "miss", path
        # a hit of the product page or a search records its event (below; one insert with the
        # stream off, as here); the others cost no query at all
        with django_assert_num_queries(1 if "/p/" in path or "q=" in path else 0):
            second = Client().get(path)
        assert cached(second) == "hit", path
        assert second.content == first.content, path
        assert second["Content-Type"] == first["Content-Type"]
        assert int(second["Content-Length"]) == len(second.content), path
        # every middleware's headers (no per-response nonce) are stored with the page
        for header in ("Content-Security-Policy", "X-Frame-Options", "Permissions-Policy"):
            assert second.get(header) == first.get(header), (path, header)
        assert second.get("Content-Security-Policy"), "precondition: CSP is on"
        assert int(first["Content-Length"]) == len(first.content), path
        assert not second.cookies


def test_parameters_in_another_order_share_one_entry_and_unknown_ones_bypass(runner):
    base = reverse("shop:product_list")
    assert cached(Client().get(base + "?sort=price&in_stock=on")) == "miss"
    assert cached(Client().get(base + "?in_stock=on&sort=price")) == "hit"
    for _ in range(2):
        assert cached(Client().get(base + "?utm_source=x")) == ""
        assert cached(Client().get(base, HTTP_HX_REQUEST="true")) == ""
    assert cached(Client().get(base + "?min_price=abc")) == ""  # 400: never kept


def test_a_hit_still_records_the_view_and_the_search(runner):
    for _ in range(3):
        assert Client().get(runner.get_absolute_url()).status_code == 200
        Client().get(reverse("shop:product_list") + "?q=trail")
    views = Event.objects.filter(kind=Event.Kind.VIEW)
    assert views.count() == 3
    assert {(e.product_id, e.session_key, e.user_id) for e in views} == {(runner.pk, "", None)}
    searches = Event.objects.filter(kind=Event.Kind.SEARCH)
    assert searches.count() == 3
    assert all(e.attributes == {"query": "trail", "results": 1} for e in searches)


def test_a_price_change_shows_on_the_next_request(runner):
    for path in pages(runner):
        assert "80.00" in Client().get(path).content.decode(), path
    runner.price = Decimal("65.00")
    runner.save()  # what the admin does: save, then reindex for search
    product_reindex(product_ids=[runner.pk])
    for path in pages(runner):
        page = Client().get(path)
        assert cached(page) == "miss", path
        assert "65.00" in page.content.decode() and "80.00" not in page.content.decode(), path


def test_stock_sold_through_checkout_shows_on_the_next_request(runner, checkout_data):
    variant = runner.variants.get()
    variant.stock = 1
    variant.save()
    url = runner.get_absolute_url()
    Client().get(url)
    assert "only 1 left" in Client().get(url).content.decode()
    shopper = Client()
    shopper.post(reverse("shop:cart_add"), {"variant": variant.pk, "quantity": 1})
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert checkout_post(shopper, checkout_data).status_code == 302
    assert Order.objects.count() == 1
    page = Client().get(url).content.decode()
    assert "out of stock" in page and "only 1 left" not in page


def test_a_published_review_shows_its_rating_on_the_next_request(runner):
    url = runner.get_absolute_url()
    Client().get(url)
    assert "1 review" not in Client().get(url).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        review = review_create(
            user=UserFactory(),
            product=runner,
            rating=4,
            title="Good shoes",
            body="Comfortable on long trails, and they dry fast.",
        )
        if review.status != review.Status.APPROVED:
            review_moderate(review_id=review.pk, status="approved", actor=UserFactory())
    page = Client().get(url).content.decode()
    assert "1 review" in page and "Good shoes" in page


def test_a_like_shows_on_the_next_request(runner, settings):
    settings.ENGAGEMENT_SOCIAL_PROOF_MIN_LIKES = 1  # counts from the first like
    for url in (reverse("shop:home"), runner.get_absolute_url()):
        Client().get(url)
        assert 'class="like-count"' not in Client().get(url).content.decode()
    like_add(user=UserFactory(), obj=runner)
    for url in (reverse("shop:home"), runner.get_absolute_url()):
        after = Client().get(url)
        assert cached(after) == "miss", url
        assert re.search(r'class="like-count">1<', after.content.decode()), url


def test_visitors_with_a_cookie_or_signed_in_never_get_or_fill_the_cache(runner, client):
    url = runner.get_absolute_url()
    shopper = UserFactory()
    client.force_login(shopper)
    mine = client.get(url)
    assert mine.status_code == 200 and cached(mine) == ""
    assert cached(Client().get(url)) == "miss", "the signed-in page did not enter the cache"
    assert cached(Client().get(url)) == "hit"
    again = client.get(url)
    assert cached(again) == "" and "Sign out" in again.content.decode()
    with_cookie = Client()
    with_cookie.cookies[settings.CSRF_COOKIE_NAME] = SECRET
    page = with_cookie.get(url)
    assert cached(page) == ""
    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', page.content.decode())


def test_csrf_works_on_a_cached_page(runner):
    url = runner.get_absolute_url()
    Client().get(url)
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(url)
    assert cached(page) == "hit"
    html = page.content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" class="add-to-cart">', html)
    variant = re.search(r'<option value="(\d+)"', html).group(1)
    assert not re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', html)
    visitor.cookies[settings.CSRF_COOKIE_NAME] = SECRET  # what agora.js does on submit
    response = visitor.post(
        form.group(1), {"variant": variant, "quantity": 1, "csrfmiddlewaretoken": SECRET}
    )
    assert response.status_code == 302
    assert Cart.objects.get().items.get().variant_id == int(variant)
    assert cached(visitor.get(url)) == ""  # the visitor has cookies now


def test_each_hit_chooses_and_records_its_own_banner(runner):
    with TestCase.captureOnCommitCallbacks(execute=True):
        banner = Banner.objects.create(name="Everyone", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(banner=banner, name="A", headline="Hello everybody")
        banner_services.banners_changed()
    uuids = []
    for _ in range(3):
        page = Client().get(reverse("shop:home")).content.decode()
        assert "Hello everybody" in page and "agora-hole" not in page
        uuids.append(re.search(r'href="/banners/([0-9a-f]+)/why/"', page).group(1))
    assert len(set(uuids)) == 3, "a cached page reused another view's decision"
    banner_services.banner_decisions_flush()
    recorded = set(BannerDecision.objects.values_list("uuid", flat=True))
    assert {u.replace("-", "") for u in map(str, recorded)} == set(uuids)
    assert BannerVariant.objects.get(banner=banner).impressions == 3


def test_redis_down_renders_the_page(runner, settings):
    dead = dead_redis_caches(settings.CACHES)
    with override_settings(CACHES=dead):
        for path in pages(runner):
            response = Client().get(path)
            assert response.status_code == 200, path
            assert "Trail runner" in response.content.decode(), path
            assert cached(response) == "", path
    assert cached(Client().get(pages(runner)[0])) == "miss", "Redis is back: the cache is used"


def test_a_banner_published_after_the_page_was_cached_shows_on_the_next_request(runner):
    url = reverse("shop:home")
    Client().get(url)
    assert "Summer sale" not in Client().get(url).content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        banner = Banner.objects.create(name="Sale", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(banner=banner, name="A", headline="Summer sale")
        banner_services.banners_changed()
    assert "Summer sale" in Client().get(url).content.decode()
    assert "Summer sale" in Client().get(url).content.decode()  # and on the hit after it


def test_a_head_request_gets_the_cached_headers_without_a_body(runner):
    url = runner.get_absolute_url()
    page = Client().get(url)
    head = Client().head(url)
    assert cached(head) == "hit" and head.status_code == 200
    assert head.content == b"" and head["Content-Type"] == page["Content-Type"]


def test_the_reviews_sorting_is_cached_per_parameter(runner):
    url = runner.get_absolute_url()
    assert cached(Client().get(url + "?rsort=newest")) == "miss"
    assert cached(Client().get(url + "?rsort=newest")) == "hit"
    assert cached(Client().get(url + "?rsort=helpful")) == "miss"


# --- the fast path: a WSGI hit in one Redis round trip ------------------------------------------


def wsgi_environ(path: str, *, method: str = "GET", host: str = "testserver", **headers) -> dict:
    """A WSGI environ of a request for ``path`` (with its query string), as gunicorn makes it;
    ``headers``: ``cookie="..."`` becomes ``HTTP_COOKIE`` and so on."""
    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **{f"HTTP_{k.upper()}": v for k, v in headers.items()},
    }


def wsgi(path: str, *, method: str = "GET", host: str = "testserver", **headers):
    """One request through ``config.wsgi.application`` (the wrapper, then Django's handler):
    (status line, headers as a list, body). Like Django's test client, it keeps the test's
    database connection open (``close_old_connections`` would close it mid-transaction)."""
    environ = wsgi_environ(path, method=method, host=host, **headers)
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, response_headers

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], body


def state_of(headers) -> str:
    return dict(headers).get(pagecache.HEADER, "")


def without(headers, *names) -> dict:
    return {k: v for k, v in headers if k not in names}


@pytest.fixture
def stream_on(settings):
    """The production setting: views, searches and banner decisions go to Redis."""
    settings.AGORA_EVENT_STREAM = True
    assert raw_redis() is not None, "precondition: the cache is Redis"
    return raw_redis()


def _own_client_ports() -> set[int]:
    """Local ports of this process's open Redis connections (every pool: the cache's and
    ``raw_redis``'s)."""
    ports = set()
    for obj in gc.get_objects():
        # type(), not isinstance(): a lazy object (the CSP nonce) would evaluate itself
        if issubclass(type(obj), redis.connection.Connection) and obj._sock is not None:
            with contextlib.suppress(OSError):
                ports.add(obj._sock.getsockname()[1])
    return ports


def commands_during(action) -> list[str]:
    """The commands this process sent to its Redis database (not from inside a Lua script)
    while ``action()`` ran, read with ``MONITOR``. ``MONITOR`` sees the whole server, where the
    other pytest-xdist workers share the database under their own key prefix, so commands are
    kept by the sending connection's port (this process's connections, listed after the action
    so that one opened during it counts too)."""
    db = raw_redis().connection_pool.connection_kwargs.get("db", 0)
    watcher = redis.Redis.from_url(settings.REDIS_URL)
    marker = f"end-of-action-{uuid.uuid4().hex}"
    records = []
    with watcher.monitor() as monitor:
        action()
        raw_redis().echo(marker)
        while True:
            command = monitor.next_command()
            if marker in command["command"]:
                break
            records.append(command)
    watcher.close()
    ports = _own_client_ports()
    return [
        record["command"].split()[0].upper()
        for record in records
        if record["db"] == db
        and record["client_type"] != "lua"
        and int(record.get("client_port") or 0) in ports
    ]


def test_the_wsgi_wrapper_serves_a_hit_with_a_normal_renders_headers(runner, settings):
    for path in pages(runner):
        settings.AGORA_PAGE_CACHE = False
        status, normal, body = wsgi(path)
        assert status == "200 OK" and state_of(normal) == "", path
        settings.AGORA_PAGE_CACHE = True
        _, first, _ = wsgi(path)
        status, hit, hit_body = wsgi(path)
        assert (state_of(first), state_of(hit)) == ("miss", "hit"), path
        assert status == "200 OK"
        names = (pagecache.HEADER, "Content-Length")
        # the security, Permissions-Policy, CSP and framing headers are exactly Django's
        assert without(hit, *names) == without(normal, *names), path
        for header in ("Content-Security-Policy", "Permissions-Policy", "X-Frame-Options"):
            assert header in dict(hit), (path, header)
        assert int(dict(hit)["Content-Length"]) == len(hit_body), path
        assert hit_body == body, path  # no banner here: the same bytes as a rendered page
        assert not any(k.lower() == "set-cookie" for k, _ in hit)


def test_a_hit_is_one_redis_round_trip(runner, stream_on):
    with TestCase.captureOnCommitCallbacks(execute=True):
        banner = Banner.objects.create(name="Everyone", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(banner=banner, name="A", headline="Hello everybody")
        banner_services.banners_changed()
    for path in (reverse("shop:home"), runner.get_absolute_url(), pages(runner)[4]):
        wsgi(path)  # miss: rendered and stored
        pagecache.MEMO.clear()  # as another process: the first hit takes the stored entry
        assert commands_during(lambda p=path: wsgi(p)) == ["EVALSHA", "EVALSHA"], path
        seen = []
        commands_during(lambda p=path: seen.append(wsgi(p)))
        assert commands_during(lambda p=path: wsgi(p)) == ["EVALSHA"], path
        assert state_of(seen[0][1]) == "hit", path
    Client().get(pages(runner)[1])
    Client().get(pages(runner)[1])
    assert commands_during(lambda: Client().get(pages(runner)[1])) == ["EVALSHA"], "middleware"


def test_a_wsgi_hit_records_its_banner_and_events_in_redis(runner, stream_on):
    with TestCase.captureOnCommitCallbacks(execute=True):
        banner = Banner.objects.create(name="Everyone", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(banner=banner, name="A", headline="Hello everybody")
        banner_services.banners_changed()
    stream, product = events.stream_key(), runner.get_absolute_url()
    uuids = []
    for n in range(4):
        _, headers, body = wsgi(reverse("shop:home"))
        assert state_of(headers) == ("miss" if n == 0 else "hit")
        uuids.append(re.search(r'href="/banners/([0-9a-f]+)/why/"', body.decode()).group(1))
        assert stream_on.xlen(stream) == 0, "the home page records no view"
    assert len(set(uuids)) == 4, "a cached page reused another view's decision"
    for n in range(3):
        assert state_of(wsgi(product)[1]) == ("miss" if n == 0 else "hit")
        assert stream_on.xlen(stream) == n + 1, "one view streamed per request"
    assert Event.objects.count() == 0, "precondition: the views wait in the stream"
    assert events.stream_drain() == 3
    assert set(Event.objects.values_list("kind", "product_id")) == {(Event.Kind.VIEW, runner.pk)}
    banner_services.banner_decisions_flush()
    recorded = {
        str(u).replace("-", "") for u in BannerDecision.objects.values_list("uuid", flat=True)
    }
    assert recorded == set(uuids)
    assert BannerVariant.objects.get(banner=banner).impressions == 4


def test_a_stale_copy_is_never_served_and_writes_nothing(runner, stream_on):
    url = runner.get_absolute_url()
    wsgi(url)
    assert state_of(wsgi(url)[1]) == "hit"
    before = stream_on.xlen(events.stream_key())
    runner.price = Decimal("65.00")
    runner.save()  # the version moves on; this process still holds the old copy
    status, headers, body = wsgi(url)
    assert status == "200 OK" and state_of(headers) == "miss"
    assert "65.00" in body.decode() and "80.00" not in body.decode()
    # the stale copy's replayed view was not written: only the rendered page's own
    assert stream_on.xlen(events.stream_key()) == before + 1
    assert "65.00" in wsgi(url)[2].decode()


def test_a_host_header_attack_is_answered_like_django(runner, settings):
    url = reverse("shop:home")
    wsgi(url)
    assert state_of(wsgi(url)[1]) == "hit", "precondition: the page is cached"
    status, headers, body = wsgi(url, host="evil.example")
    settings.AGORA_PAGE_CACHE = False
    plain_status, _, plain_body = wsgi(url, host="evil.example")
    # Django's own answer (the store's 400 page, tests/shop/test_error_pages.py), never the
    # cached page
    assert status == plain_status and status.startswith("400"), status
    assert state_of(headers) == ""
    for page in (body, plain_body):
        assert b"That request did not work" in page and b"evil.example" not in page


def test_a_wsgi_head_gets_the_headers_without_a_body(runner):
    url = runner.get_absolute_url()
    _, _, page = wsgi(url)
    status, headers, body = wsgi(url, method="HEAD")
    assert status == "200 OK" and state_of(headers) == "hit"
    assert body == b"" and int(dict(headers)["Content-Length"]) == len(page)
    status, headers, _ = wsgi(url, method="POST")
    assert state_of(headers) == "" and not status.startswith("2")


def test_a_visitor_with_a_cookie_passes_the_wrapper(runner):
    url = runner.get_absolute_url()
    wsgi(url)
    assert state_of(wsgi(url)[1]) == "hit"
    _, headers, body = wsgi(url, cookie=f"{settings.CSRF_COOKIE_NAME}={SECRET}")
    assert state_of(headers) == ""
    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', body.decode())


def test_redis_down_the_wrapper_renders_the_page(runner, settings):
    url = runner.get_absolute_url()
    wsgi(url)
    assert state_of(wsgi(url)[1]) == "hit", "precondition: this process holds a copy"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    with override_settings(CACHES=dead):
        status, headers, body = wsgi(url)
        assert status == "200 OK" and state_of(headers) == ""
        assert "Trail runner" in body.decode()
    # with the stream off here, the rendered page's view went straight to PostgreSQL
    assert Event.objects.filter(kind=Event.Kind.VIEW).count() == 3
    assert state_of(wsgi(url)[1]) == "hit", "Redis is back: the cache is used"


def test_the_previous_mget_path_still_serves(runner, settings):
    settings.AGORA_PAGE_CACHE_FAST = False
    for path in pages(runner):
        assert cached(Client().get(path)) == "miss", path
        assert cached(Client().get(path)) == "hit", path
        assert state_of(wsgi(path)[1]) == "hit", path  # the wrapper passes it to Django


def _signed_in_request():
    from tests.factories import UserFactory

    request = RequestFactory().get("/")
    request.user = UserFactory()
    return request


def test_a_banner_rendered_once_per_process_is_the_templates_output():
    from django.template.loader import get_template

    from personalization.banners.selectors import active_banners, banner_choose
    from personalization.banners.templatetags import banners as tag

    with TestCase.captureOnCommitCallbacks(execute=True):
        banner = Banner.objects.create(name="Escaped", placement=Placement.HOME_HERO)
        BannerVariant.objects.create(
            banner=banner, name="A", headline='Fish & "chips" <today>', text="50 % off"
        )
        banner_services.banners_changed()
    shown = tuple(active_banners(Placement.HOME_HERO))
    assert not settings.DEBUG, "precondition: the per-process rendering is on"
    for _ in range(3):
        choice = banner_choose(placement=Placement.HOME_HERO, banners=shown)
        banner_services.banner_decision_record(choice=choice)
        context = {"choice": choice, "creative": choice.creative, "placement": choice.placement}
        fresh = get_template(tag.TEMPLATE).render(context)
        assert choice.decision_uuid in fresh and "&amp;" in fresh, "precondition"
        assert tag._html(choice) == fresh
        assert tag._SLOT not in tag._html(choice)
        # still marked safe, or a page would show the banner's markup as text
        assert isinstance(tag._html(choice), SafeData)
        page = Template('{% load banners %}{% banner "home_hero" %}')
        assert "&lt;aside" not in page.render(Context({"request": _signed_in_request()}))
