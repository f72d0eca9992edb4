"""A real Celery worker (subprocess, Redis broker, PostgreSQL) builds an export and carries out
an erasure: the task arguments survive JSON and the tasks do the whole job out of process."""

import zipfile

import pytest

from personalization import events
from privacy.exporting import export_path
from privacy.models import DataExport, ErasureRequest
from privacy.tasks import build_export, run_erasure
from tests.factories import UserFactory
from tests.workers import wait_for as _wait_for
from tests.workers import worker  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


def test_worker_builds_the_export_and_erases_the_account(worker):  # noqa: F811
    start, queue = worker
    user = UserFactory(username="otto", email="otto@example.test", first_name="Otto")
    for _ in range(20):
        events.record("view", user=user)
    export = DataExport.objects.create(user=user)
    start()

    build_export.apply_async(args=[export.pk], queue=queue)

    assert _wait_for(lambda: DataExport.objects.get(pk=export.pk).status == "ready"), "no export"
    export.refresh_from_db()
    with zipfile.ZipFile(export_path(export)) as archive:
        assert "events.json" in archive.namelist()
        assert b'"count": 20' in archive.read("events.json")

    erasure = ErasureRequest.objects.create(user=user)
    run_erasure.apply_async(args=[erasure.pk], queue=queue)
    assert _wait_for(lambda: ErasureRequest.objects.get(pk=erasure.pk).status == "done")
    user.refresh_from_db()
    assert user.email == "" and not user.is_active
    assert not DataExport.objects.filter(pk=export.pk).exists()
    assert not export_path(export).exists()
