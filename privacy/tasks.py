"""Thin Celery tasks of the privacy app: take ids, call one service, own retries."""

from celery import shared_task
from django.db import DatabaseError

from . import emails, services

RETRYING = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(name="privacy.tasks.build_export", soft_time_limit=600, time_limit=660, **RETRYING)
def build_export(export_id: int) -> str:
    """Build a pending export's archive (idempotent). A disk error marks it failed."""
    try:
        return services.export_build(export_id=int(export_id)).status
    except OSError as exc:
        services.export_fail(export_id=int(export_id), error=f"Could not write the archive: {exc}")
        raise


@shared_task(bind=True, name="privacy.tasks.send_export_ready_email", max_retries=5, acks_late=True)
def send_export_ready_email(self, export_id: int) -> None:
    try:
        emails.send_export_ready(export_id=int(export_id))
    except OSError as exc:  # SMTP server unreachable: try again later
        raise self.retry(exc=exc, countdown=30) from exc


@shared_task(name="privacy.tasks.run_erasure", soft_time_limit=600, time_limit=660, **RETRYING)
def run_erasure(erasure_id: int) -> str:
    """Carry out one erasure if it is due (idempotent)."""
    return services.erasure_run(erasure_id=int(erasure_id)).status


@shared_task(name="privacy.tasks.run_due_erasures", **RETRYING)
def run_due_erasures() -> int:
    """Queue the erasures whose grace period is over (scheduled hourly by beat)."""
    due = services.erasures_due()
    for erasure_id in due:
        run_erasure.delay(erasure_id)
    return len(due)


@shared_task(
    name="privacy.tasks.purge_expired_data", soft_time_limit=1800, time_limit=1900, **RETRYING
)
def purge_expired_data() -> dict:
    """Apply the retention periods (scheduled daily by beat)."""
    return services.retention_purge()
