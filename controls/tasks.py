from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from controls.history import readiness_snapshots_take_all

logger = logging.getLogger(__name__)


class SnapshotsFailed(RuntimeError):
    """Some audits could not be snapshotted; raised so that Celery retries the run."""


@shared_task(
    acks_late=True,
    autoretry_for=(Exception,),
    dont_autoretry_for=(SoftTimeLimitExceeded,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=20 * 60,
    time_limit=21 * 60,
)
def snapshot_readiness() -> int:
    """Today's readiness snapshot of every open audit. Idempotent: a second run the same day
    (a retry, a redelivery after a lost worker) overwrites the same rows."""
    run = readiness_snapshots_take_all()
    logger.info("readiness snapshots: %d taken, %d failed", run.taken, len(run.failed))
    if run.failed:
        raise SnapshotsFailed(f"readiness snapshots failed for audits {run.failed}")
    return run.taken
