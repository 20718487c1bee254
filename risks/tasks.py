"""Celery tasks of risks: thin, take ids, idempotent (see ``risks.assessment_pdf``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from reports.services import CONNECTION_LOST
from risks.assessment_pdf import assessment_render


@shared_task(
    acks_late=True,  # a worker lost mid-render leaves the message queued; the render is idempotent
    reject_on_worker_lost=True,
    autoretry_for=CONNECTION_LOST,  # the database, not the render, was unavailable
    retry_backoff=30,
    max_retries=5,
    ignore_result=True,
    soft_time_limit=settings.REPORT_TASK_TIME_LIMIT - 30,
    time_limit=settings.REPORT_TASK_TIME_LIMIT,
)
def render_assessment_pdf(assessment_id: int, organization_id: int) -> str:
    """The PDF of a risk assessment, on the reports queue (``CELERY_TASK_ROUTES``)."""
    return assessment_render(assessment_id, organization_id)
