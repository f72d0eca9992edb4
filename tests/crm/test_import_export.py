"""Import shows a preview with row errors before anything is written; exports are audited and
large ones run in Celery and arrive as a download link."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm import services
from crm.models import AuditEntry, CustomerTag, ExportJob, Tag
from tests.crm.helpers import staff
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def _upload(client, name, content: str, *, url="admin:crm_customer_import"):
    return client.post(
        reverse(url),
        {
            "format": "0",  # CSV
            "resource": "0",
            "import_file": SimpleUploadedFile(name, content.encode(), content_type="text/csv"),
        },
    )


def test_import_preview_shows_row_errors_and_writes_nothing(client):
    client.force_login(staff("Support"))
    before = User.objects.count()
    response = _upload(
        client,
        "customers.csv",
        "email,first_name,last_name\nnew.one@example.test,New,One\nnot-an-email,Bad,Row\n",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not an email address" in html
    assert "Some rows failed to validate" in html
    assert re.search(r"<td>2 </td>\s*<td class=\"errors\">", html)  # the bad row, by number
    assert User.objects.count() == before  # the preview wrote nothing


def test_import_preview_then_confirm_creates_and_updates_customers(client):
    existing = UserFactory(email="known@example.test", first_name="Old")
    client.force_login(staff("Support"))
    preview = _upload(
        client,
        "customers.csv",
        "email,first_name,last_name\nNew.Two@Example.test,New,Two\nknown@example.test,Kim,Known\n",
    )
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Confirm import" in html or 'name="import_file_name"' in html
    assert not User.objects.filter(email="new.two@example.test").exists()
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', html))
    confirm = client.post(
        reverse("admin:crm_customer_process_import"),
        {
            k: fields[k]
            for k in ("import_file_name", "original_file_name", "format", "resource")
            if k in fields
        },
    )
    assert confirm.status_code == 302
    created = User.objects.get(email="new.two@example.test")
    assert created.first_name == "New" and not created.has_usable_password()
    existing.refresh_from_db()
    assert existing.first_name == "Kim"
    assert AuditEntry.objects.filter(action="import").count() == 1


def test_import_of_customer_tags_by_email_and_slug(client):
    user = UserFactory(email="tagme@example.test")
    Tag.objects.create(name="VIP", slug="vip")
    client.force_login(staff("Support"))
    preview = _upload(
        client,
        "tags.csv",
        "email,tag\ntagme@example.test,vip\nnobody@example.test,vip\n",
        url="admin:crm_customertag_import",
    )
    assert preview.status_code == 200
    assert "does not exist" in preview.content.decode()
    assert not CustomerTag.objects.exists()
    assert user.pk


def test_small_export_downloads_at_once_and_is_audited(client):
    UserFactory(email="one@example.test")
    helper = staff("Support")
    client.force_login(helper)
    response = client.post(
        reverse("admin:crm_customer_export"),
        {"format": "0", "resource": "0", "customerresource_email": "on"},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "one@example.test" in response.content.decode()
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == helper and entry.detail["rows"] >= 1
    assert entry.detail["background"] is False


def test_large_export_runs_in_celery_and_arrives_as_a_link(
    client, settings, django_capture_on_commit_callbacks
):
    settings.CRM_EXPORT_SYNC_ROWS = 2
    for n in range(3):
        UserFactory(email=f"bulk{n}@example.test")
    helper = staff("Support")
    client.force_login(helper)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:crm_customer_export"),
            {"format": "0", "resource": "0", "customerresource_email": "on"},
        )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.status == "done" and job.rows == 3
    listing = client.get(reverse("admin:crm_exportjob_changelist"))
    link = reverse("admin:crm_exportjob_download", args=[job.pk])
    assert link in listing.content.decode()
    download = client.get(link)
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode()
    assert "bulk2@example.test" in body and "email" in body.splitlines()[0]
    assert AuditEntry.objects.get(action="export").detail["background"] is True
    # another Support member cannot fetch someone else's export
    client.force_login(staff("Support"))
    assert client.get(link).status_code == 404


def test_export_of_an_unknown_resource_is_refused():
    from crm.exceptions import CrmError

    with pytest.raises(CrmError):
        services.export_start(actor=staff(), resource="passwords", file_format="csv", ids=[1])
