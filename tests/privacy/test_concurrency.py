"""Races settled by PostgreSQL, on real threads: one open erasure per shopper, one erasure run
however many workers pick the task, one pending export per shopper."""

import threading

import pytest
from django.db import close_old_connections, connection

from personalization import events
from privacy import services
from privacy.exceptions import ErasureNotAllowed
from privacy.models import AuditEntry, DataExport, ErasureRequest, PrivacySettings
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(n, fn):
    """Run ``fn()`` on ``n`` threads released together; returns their results or errors."""
    barrier = threading.Barrier(n)
    outcomes, lock = [], threading.Lock()

    def run():
        close_old_connections()
        try:
            barrier.wait()
            result = fn()
        except Exception as error:  # noqa: BLE001 (collected and asserted below)
            result = error
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == n
    return outcomes


def test_parallel_delete_requests_make_one_erasure():
    PrivacySettings.objects.update_or_create(pk=1, defaults={"erasure_grace_days": 7})
    user = UserFactory()
    outcomes = race(6, lambda: services.erasure_request(user=user))
    made = [o for o in outcomes if isinstance(o, ErasureRequest)]
    refused = [o for o in outcomes if isinstance(o, ErasureNotAllowed)]
    assert len(made) == 1 and len(refused) == 5, outcomes
    assert ErasureRequest.objects.filter(user=user).count() == 1
    assert AuditEntry.objects.filter(subject=user, action="erasure_requested").count() == 1


def test_parallel_runs_of_one_erasure_erase_once():
    user = UserFactory()
    for _ in range(50):
        events.record("view", user=user)
    erasure = ErasureRequest.objects.create(user=user)
    outcomes = race(5, lambda: services.erasure_run(erasure_id=erasure.pk))
    assert all(isinstance(o, ErasureRequest) for o in outcomes), outcomes
    erasure.refresh_from_db()
    assert erasure.status == "done" and erasure.summary["events"] == 50
    assert AuditEntry.objects.filter(subject=user, action="erasure_done").count() == 1


def test_parallel_export_clicks_make_one_pending_export():
    user = UserFactory()
    outcomes = race(6, lambda: services.export_request(user=user))
    assert all(isinstance(o, DataExport) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    assert DataExport.objects.filter(user=user).count() == 1
