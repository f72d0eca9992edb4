"""The banner decision flush and the event stream drain survive a crash between their steps
(issue 16): the next run writes what the dead one held, nothing is lost and nothing doubled.
A "crash" is a BaseException raised in the middle (as a SIGKILL would stop the code there:
no ``except Exception`` runs), on real Redis and PostgreSQL."""

import pytest

from config.cache import raw_redis
from personalization import events
from personalization.banners import services
from personalization.banners.models import BannerDecision, BannerVariant
from personalization.banners.selectors import banner_choose
from personalization.models import Event

from . import test_banners

setup = test_banners.setup  # the fixture: banners, a segment and two shoppers

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]


class Crash(BaseException):
    """The worker dies here."""


def _record(setup, times: int) -> list[str]:
    ann = setup["ann"]
    return [
        services.banner_decision_record(
            choice=banner_choose(placement="home_hero", user=ann), user=ann
        )
        for _ in range(times)
    ]


def _impressions(setup) -> int:
    return BannerVariant.objects.get(banner=setup["targeted"]).impressions


def _processing(client) -> list:
    return list(client.scan_iter(match=f"{services._queue_key()}:processing:*"))


@pytest.mark.parametrize("when", ["before the write", "after the write, before the delete"])
def test_a_flush_killed_midway_loses_nothing_and_doubles_nothing(
    setup,
    monkeypatch,
    when,
):
    uuids = _record(setup, 3)
    monkeypatch.setattr(services, "FLUSH_BATCH", 2)  # two batches: the crash is between them
    real_write = services._write
    calls = []

    def dying_write(rows):
        calls.append(len(rows))
        if when == "before the write":
            raise Crash
        written = real_write(rows)
        raise Crash  # the batch committed; the worker dies before the next step
        return written  # pragma: no cover

    monkeypatch.setattr(services, "_write", dying_write)
    with pytest.raises(Crash):
        services.banner_decisions_flush()
    client = raw_redis()
    assert client.llen(services._queue_key()) == 0, "the queue was taken by the dead flush"
    assert len(_processing(client)) == 1, "its processing list is left behind"
    written_before = BannerDecision.objects.count()
    assert written_before == (0 if when == "before the write" else 2)

    monkeypatch.setattr(services, "_write", real_write)
    later = _record(setup, 1)  # the page goes on recording meanwhile
    # A young processing list is another flush at work: it is left alone.
    assert services.banner_decisions_flush() == 1
    assert BannerDecision.objects.count() == written_before + 1
    monkeypatch.setattr(services, "ORPHAN_AFTER_SECONDS", -1)  # ... until it is old
    assert services.banner_decisions_flush() == 3 - written_before
    got = sorted(
        str(u).replace("-", "") for u in BannerDecision.objects.values_list("uuid", flat=True)
    )
    assert got == sorted(uuids + later), "a decision was lost or written twice"
    assert _impressions(setup) == 4, "impressions are counted once per decision"
    assert not _processing(client)
    assert services.banner_decisions_flush() == 0


def test_a_flush_that_fails_with_an_error_is_taken_over_at_once(setup, monkeypatch):
    uuids = _record(setup, 2)

    def broken(rows):
        raise RuntimeError("database refused")

    real_write = services._write
    monkeypatch.setattr(services, "_write", broken)
    with pytest.raises(RuntimeError):
        services.banner_decisions_flush()
    monkeypatch.setattr(services, "_write", real_write)
    assert services.banner_decisions_flush() == 2  # no waiting for the orphan age
    assert len(uuids) == BannerDecision.objects.count() == _impressions(setup)


class CrashAfterCommit:
    """The Redis client of a drain that dies after its batch committed, before it trims the
    stream (the first XTRIM after an XRANGE)."""

    def __init__(self, client):
        self.client, self.read = client, False

    def xrange(self, *args, **kwargs):
        self.read = True
        return self.client.xrange(*args, **kwargs)

    def xtrim(self, *args, **kwargs):
        if self.read:
            raise Crash
        return self.client.xtrim(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_the_event_stream_drain_killed_after_its_commit_copies_nothing_twice(settings, monkeypatch):
    settings.AGORA_EVENT_STREAM = True
    client = raw_redis()
    client.delete(events.stream_key())
    for i in range(5):
        events.record_streamed(Event.Kind.SEARCH, session_key=f"crash-{i}", query=f"q{i}")
    assert client.xlen(events.stream_key()) == 5  # precondition: the events are streamed
    monkeypatch.setattr(events, "raw_redis", lambda: CrashAfterCommit(client))
    with pytest.raises(Crash):
        events.stream_drain(batch=3)
    assert Event.objects.filter(session_key__startswith="crash-").count() == 3
    assert client.xlen(events.stream_key()) == 5, "nothing was trimmed by the dead drain"
    monkeypatch.setattr(events, "raw_redis", lambda: client)
    assert events.stream_drain(batch=3) == 2
    keys = sorted(
        Event.objects.filter(session_key__startswith="crash-").values_list("session_key", flat=True)
    )
    assert keys == [f"crash-{i}" for i in range(5)]
    assert client.xlen(events.stream_key()) == 0


def test_the_event_stream_drain_killed_before_its_commit_loses_nothing(settings, monkeypatch):
    settings.AGORA_EVENT_STREAM = True
    client = raw_redis()
    client.delete(events.stream_key())
    for i in range(4):
        events.record_streamed(Event.Kind.SEARCH, session_key=f"lost-{i}", query=f"q{i}")
    real_rows = events._rows

    def dying_rows(entries):
        real_rows(entries)
        raise Crash  # inside the transaction: it rolls back

    monkeypatch.setattr(events, "_rows", dying_rows)
    with pytest.raises(Crash):
        events.stream_drain()
    assert not Event.objects.filter(session_key__startswith="lost-").exists()
    monkeypatch.setattr(events, "_rows", real_rows)
    assert events.stream_drain() == 4
    assert Event.objects.filter(session_key__startswith="lost-").count() == 4
