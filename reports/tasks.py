"""Celery tasks of reports: thin, take an id, idempotent (see ``services.report_generate``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from reports.services import report_generate, reports_redispatch


@shared_task(
    acks_late=True,  # a worker lost mid-render leaves the message queued; the claim dedupes
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),  # the database, not the render, was unavailable
    retry_backoff=30,
    max_retries=3,
    soft_time_limit=settings.REPORT_TASK_TIME_LIMIT - 30,
    time_limit=settings.REPORT_TASK_TIME_LIMIT,
)
def generate_report(report_id: int) -> str:
    report = report_generate(report_id=report_id)
    return report.status if report is not None else "missing"


@shared_task
def redispatch_reports() -> int:
    """Beat: re-send reports left queued or abandoned (see ``services.reports_redispatch``)."""
    return len(reports_redispatch())
