"""Celery tasks of continuous monitoring: thin, take an id, idempotent (the claim in
``monitoring.run_worker`` makes a second delivery of a run a no-op)."""

from __future__ import annotations

import datetime as dt

from celery import Task, shared_task
from django.conf import settings

from monitoring.run_worker import CONNECTION_LOST, ClaimKept, run_execute
from monitoring.runs import runs_redispatch, runs_start_due


@shared_task(
    bind=True,
    acks_late=True,  # a worker lost mid-run leaves the message queued; the claim dedupes
    reject_on_worker_lost=True,
    autoretry_for=CONNECTION_LOST,  # the database, not the collector, was unavailable
    retry_backoff=30,
    max_retries=5,
    # The run fails itself at MONITORING_RUN_TIME_LIMIT (run_worker watches the collector);
    # Celery's hard limit (prefork pools) is the backstop for a task that cannot stop.
    time_limit=settings.MONITORING_RUN_TIME_LIMIT + 60,
)
def execute_run(self: Task, run_id: int, resume: str | None = None) -> str:
    try:
        run = run_execute(
            run_id=run_id, resume=dt.datetime.fromisoformat(resume) if resume else None
        )
    except ClaimKept as kept:
        raise self.retry(
            args=[run_id],
            kwargs={"resume": kept.claimed_at.isoformat()},
            exc=kept,
            countdown=min(60, 5 * 2**self.request.retries),
        ) from None
    return run.status if run is not None else "missing"


@shared_task
def start_due_runs() -> int:
    """Beat: start the scheduled connections whose time has come (``runs.runs_start_due``)."""
    return len(runs_start_due())


@shared_task
def redispatch_runs() -> int:
    """Beat: re-send runs left queued or abandoned (``runs.runs_redispatch``)."""
    return len(runs_redispatch())
