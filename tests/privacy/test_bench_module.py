"""bench.privacy runs the tasks it queues in-process only while it runs: `make bench` runs the
modules one after another in one process, and outreach, next, failed sending its outbox eagerly
to no SMTP server when privacy left Celery eager."""

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_privacy_bench_measures_and_leaves_celery_as_it_found_it(monkeypatch):
    from bench import privacy as bench_privacy
    from config.celery import app
    from privacy.models import ErasureRequest

    monkeypatch.setattr(bench_privacy, "EVENTS", 50)
    monkeypatch.setattr(bench_privacy, "RUNS", 1)
    previous = app.conf.task_always_eager  # the suite's tasks run eagerly (conftest.py)
    app.conf.task_always_eager = False  # as `make bench` starts
    try:
        rows = bench_privacy.run(shoppers=0, events=0)
        still_eager = app.conf.task_always_eager
    finally:
        app.conf.task_always_eager = previous

    assert [r["name"] for r in rows] == ["privacy.export", "privacy.erasure"]
    assert all(r["value"] > 0 for r in rows)
    assert ErasureRequest.objects.filter(status="done").count() == 1
    assert still_eager is False
