"""Celery options shared by the periodic jobs whose rerun is harmless (sweeps, daily checks):
one place that says how such a job survives a lost worker and a database hiccup."""

from __future__ import annotations

from typing import Any

from django.db import OperationalError


def rerunnable(**overrides: Any) -> dict[str, Any]:
    """Options for ``shared_task`` of an idempotent job: a worker killed mid-run leaves the
    message queued (``acks_late``, ``reject_on_worker_lost``) and the rerun changes nothing
    twice; a database restart or lock timeout (``OperationalError``) is retried with backoff.
    ``overrides`` add or replace options (time limits, a result kept)."""
    return {
        "acks_late": True,
        "reject_on_worker_lost": True,
        "autoretry_for": (OperationalError,),
        "retry_backoff": 30,
        "retry_backoff_max": 15 * 60,
        "max_retries": 5,
        "ignore_result": True,
        **overrides,
    }
