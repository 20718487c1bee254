"""Celery tasks of the evidence app: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from evidence.freshness import freshness_check
from evidence.models import FreshnessCheckDay
from evidence.notifications import digests_retry
from tenants.models import Organization

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,  # a worker killed mid-run leaves the message queued; the rerun is idempotent
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),  # database restart or lock timeout: try again later
    retry_backoff=30,
    retry_backoff_max=15 * 60,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=25 * 60,
    time_limit=30 * 60,
    ignore_result=False,  # the summary is useful where a result backend is configured
)
def check_freshness(organization_id: int | None = None) -> dict:
    """The daily job (Celery beat): update evidence freshness and send the owners' digests.

    Idempotent: a second run changes no row and sends no e-mail.
    """
    organization = None
    if organization_id is not None:
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            logger.warning("check_freshness: organization %s no longer exists", organization_id)
            return {"changed": 0, "digests": 0, "organizations": {}}
    run = freshness_check(organization=organization)
    if organization is None:
        FreshnessCheckDay.objects.update_or_create(
            day=run.today,
            defaults={
                "finished_at": timezone.now(),
                "changed": run.changed,
                "digests": run.digests,
            },
        )
    return run.as_dict()


@shared_task(ignore_result=True)
def check_freshness_catch_up() -> str:
    """Hourly (beat). From ``EVIDENCE_CHECK_HOUR`` on, send today's check if it has not
    finished (the broker was down at that hour, or the run failed); otherwise send the digests
    a mail outage held back. Both are idempotent. Returns what it did."""
    now = timezone.localtime()
    due = now.hour > settings.EVIDENCE_CHECK_HOUR  # the daily entry's own hour: give it time
    if due and not FreshnessCheckDay.objects.filter(day=now.date()).exists():
        logger.warning("freshness check of %s has not run: sending it now", now.date())
        check_freshness.delay()
        return "check sent"
    sent = digests_retry()
    if sent:
        logger.info("%d evidence digests sent late", sent)
    return f"{sent} digests sent"
