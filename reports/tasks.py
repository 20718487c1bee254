"""Celery tasks of reports: thin, take an id, idempotent (see ``services.report_generate``)."""

from __future__ import annotations

import datetime as dt

from celery import Task, shared_task
from django.conf import settings

from reports.services import CONNECTION_LOST, ClaimKept, report_generate, reports_redispatch
from reports.sweeps import reports_sweep_leftovers


@shared_task(
    bind=True,
    acks_late=True,  # a worker lost mid-render leaves the message queued; the claim dedupes
    reject_on_worker_lost=True,
    autoretry_for=CONNECTION_LOST,  # the database, not the render, was unavailable
    retry_backoff=30,
    max_retries=5,
    soft_time_limit=settings.REPORT_TASK_TIME_LIMIT - 30,
    time_limit=settings.REPORT_TASK_TIME_LIMIT,
)
def generate_report(self: Task, report_id: int, resume: str | None = None) -> str:
    try:
        report = report_generate(
            report_id=report_id, resume=dt.datetime.fromisoformat(resume) if resume else None
        )
    except ClaimKept as kept:
        # The connection dropped mid-render (a database restart): render again soon, under the
        # same claim. Past the retries the row is left to the sweep and to Retry (both take a
        # claim older than REPORT_STALE_AFTER).
        raise self.retry(
            args=[report_id],
            kwargs={"resume": kept.claimed_at.isoformat()},
            exc=kept,
            countdown=min(60, 5 * 2**self.request.retries),
        ) from None
    return report.status if report is not None else "missing"


@shared_task
def redispatch_reports() -> int:
    """Beat: re-send reports left queued or abandoned (see ``services.reports_redispatch``)."""
    return len(reports_redispatch())


@shared_task
def sweep_report_leftovers() -> dict[str, int]:
    """Beat: render folders and report files left by killed renders (see ``reports.sweeps``)."""
    return {kind: len(names) for kind, names in reports_sweep_leftovers().items()}
