"""The task outbox (issue 16): a call the broker refuses is parked as a row, published again by
the beat task when the broker is back, once, and nothing breaks the caller meanwhile. The
broker here is a real one that is not there (a closed port) or the shared test Redis."""

import io
import logging
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bench.pages import free_port
from config.celery import app, broker_pause_reset
from taskoutbox import services
from taskoutbox.models import ParkedTask
from taskoutbox.schedules import SCHEDULES
from taskoutbox.tasks import publish_parked

from .broker import broker_at

pytestmark = pytest.mark.django_db

RAN: list = []


@app.task(name="tests.taskoutbox.note")
def note(*values, **named):
    """A task of the tests only: remembers its calls (run eagerly in this process)."""
    RAN.append((values, named))
    return len(RAN)


@pytest.fixture
def down():
    """The broker is down: nothing listens on its port."""
    with broker_at(f"redis://127.0.0.1:{free_port()}/0"):
        yield


@pytest.fixture(autouse=True)
def _clean():
    RAN.clear()
    yield
    RAN.clear()


def test_a_call_the_broker_refuses_is_parked_with_its_arguments_time_and_queue(down, caplog):
    before = timezone.now()
    with caplog.at_level(logging.WARNING, logger="agora.tasks"):
        assert note.apply_async(args=[7, "a"], kwargs={"x": 1}, countdown=60, queue="q1") is None
        assert note.delay(8) is None
    first, second = ParkedTask.objects.order_by("pk")
    assert (first.task, first.args, first.kwargs, first.options) == (
        "tests.taskoutbox.note",
        [7, "a"],
        {"x": 1},
        {"queue": "q1"},
    )
    assert before + timedelta(seconds=59) < first.eta < timezone.now() + timedelta(seconds=61)
    assert (second.args, second.kwargs, second.eta) == ([8], {}, None)
    assert "Broker unreachable" in first.error
    assert "parked in the outbox" in caplog.text


def test_after_a_refusal_calls_are_parked_at_once_until_a_publish_goes_through(down):
    started = time.perf_counter()
    note.delay(1)  # tries: kombu's connection attempts and publish retries
    tried = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(10):
        note.delay(i)
    paused = (time.perf_counter() - started) / 10
    assert ParkedTask.objects.count() == 11
    assert "moments ago" in ParkedTask.objects.last().error
    assert paused < tried / 3, (paused, tried)  # no connection attempt while paused
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(services, "_publish", lambda row: broker_pause_reset())  # a drain got through
        assert services.parked_publish(limit=1) == 1
    note.delay(99)
    assert "moments ago" not in ParkedTask.objects.last().error  # tried again


def test_a_periodic_run_from_beat_is_not_parked_the_next_run_does_its_work(down):
    assert note.apply_async(args=[1], headers={"celery_beat_task": True}) is None
    assert not ParkedTask.objects.exists()


def test_the_drain_publishes_each_row_deletes_it_and_a_second_run_finds_nothing(down):
    note.delay(1)
    note.apply_async(args=[2], countdown=3600, queue="later")  # still in the future
    note.apply_async(args=[3], eta=timezone.now() - timedelta(minutes=5))  # overdue
    assert ParkedTask.objects.count() == 3
    published = []

    def record(row):  # the broker is down here; record what would be published
        published.append((row.args, row.options, row.eta))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(services, "_publish", record)
        assert services.parked_publish() == 3
        assert services.parked_publish() == 0
    assert [p[0] for p in published] == [[1], [2], [3]]
    assert not ParkedTask.objects.exists()


def test_parked_calls_run_once_the_broker_is_back(down):
    note.delay(1, tag="one")
    note.apply_async(kwargs={"tag": "two"}, countdown=5)
    assert not RAN
    app.conf.task_always_eager = True  # the broker is back (eager: this process runs them)
    assert publish_parked() == 2
    assert RAN == [((1,), {"tag": "one"}), ((), {"tag": "two"})]
    assert publish_parked() == 0 and len(RAN) == 2


def test_the_drain_stops_at_the_first_refusal_and_keeps_every_row(down):
    for i in range(3):
        note.delay(i)
    assert services.parked_publish() == 0  # still down: a real publish fails at once
    assert ParkedTask.objects.count() == 3


def test_a_row_that_cannot_be_published_keeps_its_reason_and_the_others_go_on():
    ParkedTask.objects.create(task="gone.task", args=[1])
    ParkedTask.objects.create(task="tests.taskoutbox.note", args=[2])
    assert services.parked_publish() == 1  # eager (tests): the known task ran
    assert RAN == [((2,), {})]
    left = ParkedTask.objects.get()
    assert left.task == "gone.task" and "NotRegistered" in left.error


def test_database_down_too_is_logged_at_error_with_the_call_and_never_raises(down, caplog):
    def unreachable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    with pytest.MonkeyPatch.context() as mp, caplog.at_level(logging.ERROR, logger="agora.tasks"):
        mp.setattr(ParkedTask.objects, "create", unreachable)
        assert note.delay(5, why="both down") is None
    assert not ParkedTask.objects.exists()
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "LOST" in record.getMessage() and "args=(5,)" in record.getMessage()


def test_values_kombu_would_send_are_kept_as_json(down):
    when = timezone.now()
    note.delay(when, amount=Decimal("9.50"))
    row = ParkedTask.objects.get()
    assert parse_datetime(row.args[0]) == when.replace(microsecond=when.microsecond // 1000 * 1000)
    assert row.kwargs == {"amount": "9.50"}


def test_the_beat_schedule_runs_the_drain_every_30_seconds():
    from django_celery_beat.models import PeriodicTask

    from taskoutbox import demo

    out = io.StringIO()
    demo.seed(stdout=out)  # the demo seeder makes it (the migration did already)
    assert "taskoutbox:" in out.getvalue()
    row = PeriodicTask.objects.get(name=SCHEDULES[0]["name"])
    assert row.task == publish_parked.name == "taskoutbox.publish_parked"
    assert (row.interval.every, row.interval.period) == (30, "seconds")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_drainers_at_once_publish_every_row_exactly_once():
    rows = ParkedTask.objects.bulk_create(
        [ParkedTask(task="tests.taskoutbox.note", args=[i]) for i in range(40)]
    )
    assert connection.vendor == "postgresql"
    published: list[int] = []
    # Both drainers hold a claimed batch at the same moment: each waits for the other once.
    both_claimed = threading.Barrier(2, timeout=60)
    waited = threading.local()
    errors = []

    def slow_publish(row):
        if not getattr(waited, "done", False):
            waited.done = True
            both_claimed.wait()
        published.append(row.args[0])

    def drain():
        try:
            services.parked_publish(batch=5)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(services, "_publish", slow_publish)
        threads = [threading.Thread(target=drain) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert not errors, errors
    counts = Counter(published)
    assert sorted(counts) == [r.args[0] for r in rows]
    assert set(counts.values()) == {1}, "a row was published twice"
    assert not ParkedTask.objects.exists()
