"""Write-side operations of the CRM: notes, tasks, tags, the audit log and customer merges."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .exceptions import CrmError
from .models import AuditEntry, CustomerTag, ExportJob, Note, Tag, Task

User = get_user_model()


def audit_record(*, actor, action: str, customer=None, **detail) -> AuditEntry:
    """Append one audit row (who, what, when, about whom). ``detail`` must be JSON-safe."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        customer=customer,
        detail=detail,
    )


@transaction.atomic
def note_add(*, customer, author, body: str) -> Note:
    """Add a note by ``author`` (a staff member). Raises CrmError for an empty or long body."""
    body = (body or "").strip()
    if not body:
        raise CrmError("A note needs some text.")
    if len(body) > 5000:
        raise CrmError("A note is at most 5,000 characters.")
    return Note.objects.create(customer=customer, author=author, body=body)


@transaction.atomic
def task_add(*, customer, created_by, title: str, due_on: date, assignee=None) -> Task:
    """Add an open follow-up. Raises CrmError for a missing title or a non-staff assignee."""
    title = (title or "").strip()
    if not title:
        raise CrmError("A task needs a title.")
    if assignee is not None and not assignee.is_staff:
        raise CrmError("Tasks can only be assigned to staff.")
    return Task.objects.create(
        customer=customer,
        created_by=created_by,
        title=title[:200],
        due_on=due_on,
        assignee=assignee,
    )


def task_complete(*, task_id: int) -> bool:
    """Mark a task done; True if this call closed it (a second call changes nothing)."""
    return bool(
        Task.objects.filter(pk=task_id, done_at__isnull=True).update(done_at=timezone.now())
    )


def tag_get_or_create(*, name: str) -> Tag:
    name = (name or "").strip()[:40]
    slug = slugify(name)[:40]
    if not slug:
        raise CrmError("A tag needs a name with letters or digits.")
    tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name})
    return tag


def tag_add(*, customer, tag: Tag, added_by=None) -> bool:
    """Tag a customer; True if the tag was new for them (the unique constraint settles races)."""
    _, created = CustomerTag.objects.get_or_create(
        user=customer, tag=tag, defaults={"added_by": added_by}
    )
    return created


def tag_remove(*, customer, tag: Tag) -> bool:
    return CustomerTag.objects.filter(user=customer, tag=tag).delete()[0] > 0


# --- exports -------------------------------------------------------------------------------

FORMATS = {"csv": ("text/csv", "csv"), "xlsx": (None, "xlsx")}


def export_rows_limit() -> int:
    """Exports with more rows than this run in Celery (setting CRM_EXPORT_SYNC_ROWS)."""
    from django.conf import settings

    return int(getattr(settings, "CRM_EXPORT_SYNC_ROWS", 2000))


@transaction.atomic
def export_start(*, actor, resource: str, file_format: str, ids: list[int]) -> ExportJob:
    """Queue a background export of ``ids`` of ``resource`` (a key of crm.resources.RESOURCES).

    The task runs after commit; the job row shows the download link when it is done. The
    export is written to the audit log now (who asked for what, how many rows).
    """
    from .models import AuditEntry, ExportJob
    from .resources import RESOURCES

    if resource not in RESOURCES:
        raise CrmError(f"Unknown export {resource!r}.")
    if file_format not in FORMATS:
        raise CrmError("Choose CSV or XLSX.")
    job = ExportJob.objects.create(
        requested_by=actor,
        resource=resource,
        file_format=file_format,
        params={"ids": [int(i) for i in ids]},
        rows=len(ids),
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        resource=resource,
        rows=len(ids),
        job=job.pk,
        background=True,
    )
    from .tasks import run_export

    job_id = job.pk
    transaction.on_commit(lambda: run_export.delay(job_id))
    return job


def export_run(*, job_id: int) -> ExportJob:
    """Write the file of a queued export. Idempotent: a finished job is left as it is."""
    import tablib  # noqa: F401 (import-export's dataset library, needed by the formats)
    from django.core.files.base import ContentFile
    from import_export.formats.base_formats import CSV, XLSX

    from .models import ExportJob
    from .resources import RESOURCES

    job = ExportJob.objects.get(pk=job_id)
    if job.status == ExportJob.Status.DONE:
        return job
    try:
        resource = RESOURCES[job.resource]()
        ids = job.params.get("ids", [])
        dataset = resource.export(queryset=resource.get_queryset().filter(pk__in=ids))
        fmt = CSV() if job.file_format == "csv" else XLSX()
        data = fmt.export_data(dataset)
        if isinstance(data, str):
            data = data.encode("utf-8")
        name = f"{job.resource}-{job.pk}.{job.file_format}"
        job.file.save(name, ContentFile(data), save=False)
        job.rows = len(dataset)
        job.status = ExportJob.Status.DONE
        job.finished_at = timezone.now()
        job.save(update_fields=["file", "rows", "status", "finished_at"])
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        raise
    return job


@transaction.atomic
def note_update(*, note_id: int, body: str) -> Note:
    """Change a note's text (same limits as ``note_add``). Raises Note.DoesNotExist, CrmError."""
    note = Note.objects.select_for_update().get(pk=note_id)
    body = (body or "").strip()
    if not body:
        raise CrmError("A note needs some text.")
    if len(body) > 5000:
        raise CrmError("A note is at most 5,000 characters.")
    note.body = body
    note.save(update_fields=["body"])
    return note


def note_delete(*, note_id: int) -> bool:
    """Delete a note; True if it existed."""
    return Note.objects.filter(pk=note_id).delete()[0] > 0


_UNSET = object()


@transaction.atomic
def task_update(*, task_id: int, title=_UNSET, due_on=_UNSET, assignee=_UNSET, done=_UNSET) -> Task:
    """Change a task: title, due date, assignee (staff only, or None) and ``done`` (True closes
    it now, False reopens it). Fields left out keep their value. Raises Task.DoesNotExist,
    CrmError."""
    task = Task.objects.select_for_update().get(pk=task_id)
    if title is not _UNSET:
        title = (title or "").strip()
        if not title:
            raise CrmError("A task needs a title.")
        task.title = title[:200]
    if due_on is not _UNSET:
        task.due_on = due_on
    if assignee is not _UNSET:
        if assignee is not None and not assignee.is_staff:
            raise CrmError("Tasks can only be assigned to staff.")
        task.assignee = assignee
    if done is not _UNSET:
        if done and task.done_at is None:
            task.done_at = timezone.now()
        elif not done:
            task.done_at = None
    task.save()
    return task


def task_delete(*, task_id: int) -> bool:
    """Delete a task; True if it existed."""
    return Task.objects.filter(pk=task_id).delete()[0] > 0
