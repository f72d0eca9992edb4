"""Thin Celery tasks of the CRM: they take ids and call one service."""

from celery import shared_task

from . import services


@shared_task(name="crm.tasks.run_export", soft_time_limit=600, time_limit=660)
def run_export(job_id: int) -> int:
    """Write a queued export's file; returns its row count."""
    return services.export_run(job_id=int(job_id)).rows
