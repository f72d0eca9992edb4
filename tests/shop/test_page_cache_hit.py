"""The whole-page cache's hit path made cheaper (issue 15): its own Redis connection (fork-safe,
follows the client, recovers from a broken connection), the banner hole and the replayed events
prepared once per copy (the very records and HTML of the unprepared path), and the addresses
remembered per process (forgotten when a setting changes)."""

import json
import os
import random
import re
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from config import cache as cache_module
from config.cache import REDIS_DOWN, OwnConnection, deferred_redis_writes, raw_redis
from personalization import events
from personalization.banners import services as banner_services
from personalization.banners.models import Banner, BannerVariant, Placement
from personalization.banners.selectors import active_banners
from personalization.banners.templatetags import banners as tag
from personalization.models import Event
from tests.shop.test_page_cache import state_of, wsgi

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.AGORA_PAGE_CACHE = True
    settings.AGORA_EVENT_STREAM = True
    assert raw_redis() is not None, "precondition: the cache is Redis"


def _port(line: OwnConnection) -> int:
    return line._connection._sock.getsockname()[1]


def test_the_own_connection_is_fork_safe():
    client, line = raw_redis(), OwnConnection()
    assert line.call(client, "PING") in (b"PONG", "PONG", True)
    parent_port = _port(line)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a connection of its own, the parent's left alone
        code = 1
        try:
            ok = line.call(client, "PING") in (b"PONG", "PONG", True)
            code = 0 if ok and _port(line) != parent_port else 2
            os.write(write, str(_port(line)).encode())
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    child_port = int(os.read(read, 32) or 0)
    os.close(read)
    os.close(write)
    assert os.waitstatus_to_exitcode(status) == 0, "the child used the parent's connection"
    assert child_port and child_port != parent_port
    # the parent's connection still works (the child did not shut its socket down)
    assert line.call(client, "PING") in (b"PONG", "PONG", True)
    assert _port(line) == parent_port
    line.close()


def test_the_own_connection_follows_the_client_and_recovers_from_a_broken_one():
    client, line = raw_redis(), OwnConnection()
    line.call(client, "PING")
    first = line._connection
    other = redis.Redis.from_url(settings.REDIS_URL)
    line.call(other, "PING")
    assert line._connection is not first and line._pool is other.connection_pool
    client_id = line.call(other, "CLIENT", "ID")
    other.client_kill_filter(_id=client_id)  # the server drops our connection
    with pytest.raises(REDIS_DOWN):
        line.call(other, "PING")  # sent once, not retried: the caller learns it failed
    assert line.call(other, "PING") in (b"PONG", "PONG", True), "a new connection next time"
    line.close()
    other.close()


@pytest.mark.parametrize(
    "args",
    [
        ("EVALSHA", "a" * 40, 2, "k1", b"k2", b"", b"\x80\xff", 2592000, 0, 1.5),
        ("SET", "key", bytearray(b"value")),  # redis-py converts these: its packer does
        ("GET", memoryview(b"key")),
        ("CLIENT ID",),  # a name with a space is split: its packer does
        ("SET", "k\u00e9y", "valu\u00e9 with spaces"),
    ],
)
def test_the_own_connection_packs_a_command_as_redis_py_does(args):
    connection = raw_redis().connection_pool.get_connection()
    try:
        expected = b"".join(connection._command_packer.pack(*args))
        assert b"".join(cache_module._packed(connection, args)) == expected
    finally:
        raw_redis().connection_pool.release(connection)


def test_the_own_connection_sends_what_it_packs_and_reads_the_reply():
    client, line = raw_redis(), OwnConnection()
    key = "agora-test:own-connection"
    assert line.call(client, "SET", key, bytearray(b"v\xff"), "EX", 60) in (b"OK", True)
    assert line.call(client, "GET", memoryview(key.encode())) == b"v\xff"
    assert line.call(client, "DEL", key) == 1
    with pytest.raises(redis.ResponseError):  # an error reply is raised, the connection kept
        line.call(client, "NOSUCHCOMMAND", 1)
    assert line.call(client, "PING") in (b"PONG", "PONG", True)
    line.close()


def test_a_forked_child_counts_one_fork_more():
    before = cache_module._forks[0]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, str(cache_module._forks[0]).encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    child = int(os.read(read, 32))
    os.close(read)
    os.close(write)
    assert cache_module._forks[0] == before and child == before + 1


# fixed "random" bytes: parameters drawn at collection time (os.urandom) differ between the
# pytest-xdist workers, which then refuse to run ("Different tests were collected")
@pytest.mark.parametrize(
    "raw",
    [bytes(16), b"\xff" * 16, bytes(range(16)), *(random.Random(n).randbytes(16) for n in (1, 2))],
)
def test_a_drawn_decision_uuid_is_uuid4_of_its_bytes(raw):
    assert tag._uuid4_hex(raw) == uuid.UUID(bytes=raw, version=4).hex


def test_prepared_replay_writes_what_record_streamed_writes(runner):
    entries = [("view", runner.pk, {}), ("search", None, {"query": "trail", "results": 4})]
    with deferred_redis_writes() as plain:
        events.replay(entries)
    with deferred_redis_writes() as prepared:
        events.prepare_replay(entries)()
    assert len(plain) == len(prepared) == 2
    for (command, key, args), (p_command, p_key, p_args) in zip(plain, prepared, strict=True):
        assert (
            (command, key, args[:2])
            == (p_command, p_key, p_args[:2])
            == (
                "XADD",
                events.stream_key(),
                ("*", "e"),
            )
        )
        expected, got = json.loads(args[2]), json.loads(p_args[2])
        assert expected.pop("occurred_at")[:16] == got.pop("occurred_at")[:16]
        assert got == expected
    # an attribute named like a parameter of record_streamed binds to it there: the same here
    odd = [("search", None, {"value": "3", "query": "trail"})]
    with deferred_redis_writes() as plain:
        events.replay(odd)
    with deferred_redis_writes() as prepared:
        events.prepare_replay(odd)()
    expected, got = json.loads(plain[0][2][2]), json.loads(prepared[0][2][2])
    assert expected["value"] == "3" and "value" not in expected["attributes"], "precondition"
    assert expected.pop("occurred_at")[:16] == got.pop("occurred_at")[:16] and got == expected
    # outside a hit it is replay itself
    events.prepare_replay(entries[:1])()
    assert raw_redis().xlen(events.stream_key()) == 1


def _banners(*variants, placement=Placement.HOME_HERO, **fields):
    with TestCase.captureOnCommitCallbacks(execute=True):
        banner = Banner.objects.create(name="B", placement=placement, **fields)
        for name, weight, headline in variants:
            BannerVariant.objects.create(banner=banner, name=name, weight=weight, headline=headline)
        banner_services.banners_changed()
    return banner


def test_the_prepared_banner_records_and_renders_as_the_unprepared_one():
    now = timezone.now()
    _banners(("Old", 1, "Gone already"), priority=9, ends_at=now - timedelta(hours=1))
    _banners(("Soon", 1, "Not yet"), priority=8, starts_at=now + timedelta(hours=1))
    banner = _banners(("A", 1, "Headline A"), ("B", 3, "Headline B"), priority=1)
    shown = tuple(active_banners(Placement.HOME_HERO))
    assert len(shown) == 3, "precondition: the scheduled banners are listed, to be skipped"
    prepared = tag.banner_html_for_keyless.prepare(Placement.HOME_HERO, (), shown)
    seen, uuids = Counter(), set()
    for _ in range(200):
        with deferred_redis_writes() as writes:
            html = prepared()
        [(command, key, (row,))] = writes
        assert (command, key) == ("RPUSH", banner_services.queue_key())
        row = json.loads(row)
        assert row["banner_id"] == banner.pk and row["reason"] == "everyone"
        variant = BannerVariant.objects.get(pk=row["variant_id"])
        seen[variant.name] += 1
        drawn = uuid.UUID(row["uuid"])
        assert drawn.version == 4 and drawn.variant == uuid.RFC_4122 and drawn.hex == row["uuid"]
        uuids.add(row["uuid"])
        assert variant.headline in html and row["uuid"] in html and tag._SLOT not in html
        assert re.search(rf'href="/banners/{row["uuid"]}/why/"', html)
        # the unprepared path's row and HTML for the same decision
        choice = tag.Choice(
            banner.pk,
            next(c for v in shown for c in v.variants if c.variant_id == variant.pk),
            Placement.HOME_HERO,
            "everyone",
            decision_uuid=row["uuid"],
        )
        assert html == tag._html(choice)
        expected = banner_services.decision_row(
            choice=choice,
            user=None,
            visitor="",
            decision_uuid=row["uuid"],
            chosen_at=row["chosen_at"],
        )
        assert row == json.loads(json.dumps(expected))
    assert seen["A"] and seen["B"] > seen["A"], f"drawn by weight 1:3: {seen}"
    assert len(uuids) == 200, "every view its own random decision uuid"
    # outside a hit: the unprepared path, recorded at once
    before = raw_redis().llen(banner_services.queue_key())
    assert "Headline" in prepared()
    assert raw_redis().llen(banner_services.queue_key()) == before + 1


def test_a_wsgi_hit_still_records_the_banner_decision_and_the_view(runner):
    banner = _banners(("A", 1, "Hello everybody"))
    home, product = reverse("shop:home"), runner.get_absolute_url()
    queue, stream = banner_services.queue_key(), events.stream_key()
    for path in (home, product):
        wsgi(path)
        assert state_of(wsgi(path)[1]) == "hit", "precondition: a hit"
    decisions, views = raw_redis().llen(queue), raw_redis().xlen(stream)
    _, headers, body = wsgi(home)
    assert state_of(headers) == "hit" and b"Hello everybody" in body
    assert raw_redis().llen(queue) == decisions + 1
    assert state_of(wsgi(product)[1]) == "hit"
    assert raw_redis().xlen(stream) == views + 1
    assert Event.objects.count() == 0
    events.stream_drain()
    assert Event.objects.filter(kind=Event.Kind.VIEW, product=runner).exists()
    banner_services.banner_decisions_flush()
    assert BannerVariant.objects.get(banner=banner).impressions >= 3


def test_a_remembered_address_is_forgotten_when_the_settings_change(runner):
    url = runner.get_absolute_url()
    wsgi(url)
    assert state_of(wsgi(url)[1]) == "hit", "precondition: the address is remembered"
    with override_settings(ALLOWED_HOSTS=["shop.example"]):
        status, headers, _ = wsgi(url)
        assert status.startswith("400") and state_of(headers) == ""
    assert state_of(wsgi(url)[1]) == "hit"


def test_the_decision_queue_key_is_worked_out_once_and_again_after_a_settings_change():
    """The queue key is remembered per process (the hit asks for it per banner), but a test or
    deployment that changes the cache's key prefix gets its own queue at once."""
    from django.core.cache import caches

    first = banner_services.queue_key()
    assert first == caches["default"].make_key(banner_services.QUEUE_KEY)
    changed = {name: dict(value) for name, value in settings.CACHES.items()}
    changed["default"]["KEY_PREFIX"] = "other-prefix-for-this-test"
    with override_settings(CACHES=changed):
        second = banner_services.queue_key()
        assert second == caches["default"].make_key(banner_services.QUEUE_KEY)
    assert second != first
    assert "other-prefix-for-this-test" in second
    assert banner_services.queue_key() == first  # and back when the setting is restored
