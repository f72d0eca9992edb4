"""A large export runs in a real Celery worker (subprocess on Redis) and arrives as a link."""

import pytest
from django.urls import reverse

from crm.models import ExportJob
from crm.tasks import run_export
from tests.crm.helpers import staff
from tests.factories import UserFactory
from tests.workers import wait_for as _wait_for
from tests.workers import worker  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def shared_media(settings, monkeypatch):
    """The worker writes where the test server reads (the test's MEDIA_ROOT)."""
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))


def test_large_export_is_written_by_a_worker(
    shared_media,
    worker,  # noqa: F811
    client,
    settings,
    monkeypatch,
):
    start, queue = worker
    settings.CRM_EXPORT_SYNC_ROWS = 3
    for n in range(5):
        UserFactory(email=f"worker{n}@example.test")
    # route the task to this test's worker queue (the work itself is the real task)
    monkeypatch.setattr(
        run_export, "delay", lambda job_id: run_export.apply_async(args=[job_id], queue=queue)
    )
    start()
    client.force_login(staff("Support"))
    response = client.post(
        reverse("admin:crm_customer_export"),
        {"format": "0", "resource": "0", "customerresource_email": "on"},
    )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert _wait_for(lambda: ExportJob.objects.get(pk=job.pk).status == "done"), "no worker ran"
    download = client.get(reverse("admin:crm_exportjob_download", args=[job.pk]))
    body = b"".join(download.streaming_content).decode()
    assert "worker4@example.test" in body
