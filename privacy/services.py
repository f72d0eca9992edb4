"""Privacy operations: exports, erasure requests, retention purges. Every one leaves an
``AuditEntry`` in the same transaction; tasks and emails are queued after commit."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from . import exporting, registry
from .erasure import erase_personal_data
from .exceptions import ErasureNotAllowed, ExportNotAvailable, ReasonRequired
from .models import AuditEntry, DataExport, ErasureRequest
from .registry import ErasureOptions
from .selectors import grace_days

SIGNING_SALT = "privacy.export-download"


def audit_record(
    *, action: str, subject, actor=None, reason: str = "", details: dict | None = None
) -> AuditEntry:
    """Append one audit entry. ``actor`` None means the system (a task)."""
    by_staff = bool(actor is not None and subject is not None and actor.pk != subject.pk)
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        subject=subject,
        by_staff=by_staff,
        reason=reason[:300],
        details=details or {},
    )


# --- export ----------------------------------------------------------------------------------


def link_hours() -> int:
    return int(getattr(settings, "PRIVACY_EXPORT_LINK_HOURS", 72))


def export_request(*, user, requested_by=None, reason: str = "") -> DataExport:
    """Ask for a copy of ``user``'s data; returns the pending export (the one already pending,
    if any: a double click makes one archive). The archive is built by
    ``privacy.tasks.build_export`` after commit. Staff (``requested_by`` another user) must
    give a reason (``ReasonRequired``)."""
    staff = requested_by is not None and requested_by.pk != user.pk
    if staff and not reason.strip():
        raise ReasonRequired("Say why you export this shopper's data.")
    try:
        with transaction.atomic():
            export = DataExport.objects.create(
                user=user, requested_by=requested_by if staff else None
            )
            audit_record(
                action=AuditEntry.Action.EXPORT_REQUESTED,
                subject=user,
                actor=requested_by or user,
                reason=reason,
                details={"export": export.pk},
            )
    except IntegrityError:  # one pending export per shopper (partial unique constraint)
        # the one pending now, or just finished by the task in the meantime
        return DataExport.objects.filter(user=user).order_by("-created_at", "-pk").first()
    from .tasks import build_export

    transaction.on_commit(lambda: build_export.delay(export.pk))
    return export


def export_build(*, export_id: int) -> DataExport:
    """Build the archive of a pending export, mark it ready with its expiry and email the
    link. Idempotent: an export that is no longer pending is returned unchanged."""
    with transaction.atomic():
        export = (
            DataExport.objects.select_for_update(skip_locked=True)
            .select_related("user")
            .filter(pk=export_id, status=DataExport.Status.PENDING)
            .first()
        )
        if export is None:
            return DataExport.objects.get(pk=export_id)
        path, names = exporting.build_archive(export.user)
        now = timezone.now()
        export.status = DataExport.Status.READY
        export.file_name = path.name
        export.size_bytes = path.stat().st_size
        export.files = names
        export.finished_at = now
        export.expires_at = now + timedelta(hours=link_hours())
        export.save()
        audit_record(
            action=AuditEntry.Action.EXPORT_READY,
            subject=export.user,
            details={"export": export.pk, "files": len(names), "bytes": export.size_bytes},
        )
        transaction.on_commit(lambda: _email_export_ready(export.pk))
    return export


def export_fail(*, export_id: int, error: str) -> None:
    DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
        status=DataExport.Status.FAILED, error=error[:300], finished_at=timezone.now()
    )


def export_token(export: DataExport) -> str:
    """The signed token in the download link (it names the export; it expires with it)."""
    return signing.TimestampSigner(salt=SIGNING_SALT).sign(str(export.pk))


def export_download_url(export: DataExport) -> str:
    return reverse("privacy:export_download", kwargs={"token": export_token(export)})


def export_for_download(*, token: str, user) -> DataExport:
    """The export named by a download ``token`` if ``user`` may download it now: the token is
    genuine and younger than the link lifetime, the export is ready and not expired, and
    ``user`` is its shopper or staff with the privacy export permission. Otherwise
    ``ExportNotAvailable`` (404 or 410)."""
    try:
        export_id = signing.TimestampSigner(salt=SIGNING_SALT).unsign(
            token, max_age=timedelta(hours=link_hours())
        )
    except signing.SignatureExpired:
        raise ExportNotAvailable("This download link has expired.", status_code=410) from None
    except signing.BadSignature:
        raise ExportNotAvailable("This download link is not valid.") from None
    export = DataExport.objects.select_related("user").filter(pk=int(export_id)).first()
    if export is None:
        raise ExportNotAvailable("This download link is not valid.")
    if export.user_id != user.pk and not user.has_perm("privacy.view_dataexport"):
        raise ExportNotAvailable("This download link is not valid.")
    if not export.is_downloadable:
        raise ExportNotAvailable(
            "This download has expired. Ask for a new copy of your data.", status_code=410
        )
    return export


def export_downloaded(*, export: DataExport, user) -> None:
    with transaction.atomic():
        DataExport.objects.filter(pk=export.pk).update(downloaded_at=timezone.now())
        audit_record(
            action=AuditEntry.Action.EXPORT_DOWNLOADED,
            subject=export.user,
            actor=user,
            details={"export": export.pk},
        )


def _email_export_ready(export_id: int) -> None:
    from .tasks import send_export_ready_email

    send_export_ready_email.delay(export_id)


# --- erasure ---------------------------------------------------------------------------------


def erasure_request(
    *, user, requested_by=None, keep_content: bool = False, reason: str = ""
) -> ErasureRequest:
    """Schedule the erasure of ``user``'s account after the staff-set grace period (at once
    when it is 0). Staff (``requested_by`` another user) must give a reason and erase at once.
    Raises ``ErasureNotAllowed`` when an erasure is already open or the account is staff."""
    staff = requested_by is not None and requested_by.pk != user.pk
    if staff and not reason.strip():
        raise ReasonRequired("Say why you erase this shopper's account.")
    if user.is_staff or user.is_superuser:
        raise ErasureNotAllowed(
            "Staff accounts are not erased here: remove their staff status first."
        )
    grace = 0 if staff else grace_days()
    now = timezone.now()
    try:
        with transaction.atomic():
            erasure = ErasureRequest.objects.create(
                user=user,
                requested_by=requested_by if staff else None,
                reason=reason[:300],
                keep_content=keep_content,
                requested_at=now,
                scheduled_for=now + timedelta(days=grace),
            )
            audit_record(
                action=AuditEntry.Action.ERASURE_REQUESTED,
                subject=user,
                actor=requested_by or user,
                reason=reason,
                details={"erasure": erasure.pk, "grace_days": grace, "keep_content": keep_content},
            )
    except IntegrityError:
        raise ErasureNotAllowed("Deleting this account is already under way.") from None
    if grace == 0:
        from .tasks import run_erasure

        transaction.on_commit(lambda: run_erasure.delay(erasure.pk))
    return erasure


def erasure_cancel(*, user, actor=None) -> ErasureRequest:
    """Cancel ``user``'s scheduled erasure (during the grace period). ``ErasureNotAllowed``
    when none is scheduled (or it already started)."""
    with transaction.atomic():
        erasure = (
            ErasureRequest.objects.select_for_update()
            .filter(user=user, status=ErasureRequest.Status.SCHEDULED)
            .first()
        )
        if erasure is None:
            raise ErasureNotAllowed("There is no account deletion to cancel.")
        erasure.status = ErasureRequest.Status.CANCELLED
        erasure.save(update_fields=["status"])
        audit_record(
            action=AuditEntry.Action.ERASURE_CANCELLED,
            subject=user,
            actor=actor or user,
            details={"erasure": erasure.pk},
        )
    return erasure


def erasure_run(*, erasure_id: int) -> ErasureRequest:
    """Carry out a due erasure through the registry, in one transaction with its audit entry.

    Idempotent: the request is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` while
    scheduled and due, so a duplicated task or two workers erase once; anything else is
    returned unchanged.
    """
    with transaction.atomic():
        erasure = (
            ErasureRequest.objects.select_for_update(skip_locked=True)
            .filter(
                pk=erasure_id,
                status=ErasureRequest.Status.SCHEDULED,
                scheduled_for__lte=timezone.now(),
            )
            .first()
        )
        if erasure is None:
            return ErasureRequest.objects.get(pk=erasure_id)
        user = erasure.user
        summary = erase_personal_data(
            user=user,
            options=ErasureOptions(keep_content=erasure.keep_content, erasure_id=erasure.pk),
        )
        from shop.pagecache import storefront_changed

        storefront_changed()  # their name leaves the reviews on cached store pages
        erasure.status = ErasureRequest.Status.DONE
        erasure.completed_at = timezone.now()
        erasure.summary = summary
        erasure.save(update_fields=["status", "completed_at", "summary"])
        audit_record(
            action=AuditEntry.Action.ERASURE_DONE,
            subject=user,
            actor=erasure.requested_by,
            reason=erasure.reason,
            details={"erasure": erasure.pk, "rows": sum(summary.values())},
        )
        from webhooks.services import webhook_event_emit

        webhook_event_emit(
            event="customer.erased",
            payload={"customer_id": user.pk, "erased_at": erasure.completed_at},
        )
    return erasure


def erasures_due() -> list[int]:
    """Ids of scheduled erasures whose grace period is over."""
    return list(
        ErasureRequest.objects.filter(
            status=ErasureRequest.Status.SCHEDULED, scheduled_for__lte=timezone.now()
        ).values_list("pk", flat=True)
    )


# --- retention -------------------------------------------------------------------------------


def retention_purge(*, now=None) -> dict[str, int]:
    """Delete what is older than its retention period, for every registered kind, and the
    archives of expired exports. Returns rows deleted per kind. Idempotent."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for entry in registry.retention_kinds():
        days = entry.days()
        if days is None:
            continue
        with transaction.atomic():
            done[entry.key] = entry.purge(before=now - timedelta(days=days))
    expired = DataExport.objects.filter(status=DataExport.Status.READY, expires_at__lte=now)
    count = 0
    for export in expired:
        exporting.export_file_delete(export)
        count += 1
    expired.update(status=DataExport.Status.EXPIRED)
    done["expired_exports"] = count
    return done
