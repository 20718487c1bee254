"""Celery tasks of the project itself: jobs that span apps. Thin: they call services."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError
from django.utils import timezone

from sso import recheck as sso_recheck
from tenants.context import org_scope
from tenants.models import Organization
from trust import recheck as trust_recheck

logger = logging.getLogger(__name__)


class RecheckFailed(RuntimeError):
    """Some organizations could not be checked; raised so that Celery retries the run (the
    organizations done already are not checked twice: their rows are claimed for the day)."""


def domains_recheck_all(*, now: dt.datetime | None = None) -> dict[str, list[str]]:
    """The daily re-check of verified domains (``soc2app.domain_recheck``), organization by
    organization under its own scope; per slug, the domains that lost verification."""
    now = now or timezone.now()
    ids = sso_recheck.organizations_due(now) | trust_recheck.organizations_due(now)
    lost: dict[str, list[str]] = {}
    failed: list[str] = []
    for org in Organization.objects.filter(pk__in=ids).order_by("pk"):
        try:
            with org_scope(org):
                names = sso_recheck.sso_domains_recheck(organization=org, now=now)
                names += trust_recheck.trust_domain_recheck(organization=org, now=now)
        except SoftTimeLimitExceeded:
            raise
        except Exception:  # one organization must not hold the others back
            logger.exception("domain re-check of %s failed", org.slug)
            failed.append(org.slug)
            continue
        if names:
            lost[org.slug] = names
    logger.info("domain re-check: %d organizations visited, unverified: %s", len(ids), lost)
    if failed:
        raise RecheckFailed(f"domain re-check failed for {failed}")
    return lost


@shared_task(
    name="soc2app.domains_recheck_daily",
    acks_late=True,  # a worker killed mid-run leaves the message queued; the rerun is idempotent
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, RecheckFailed),
    retry_backoff=60,
    retry_backoff_max=15 * 60,
    max_retries=5,
    soft_time_limit=30 * 60,
    time_limit=32 * 60,
    ignore_result=True,
)
def domains_recheck_daily() -> dict[str, list[str]]:
    return domains_recheck_all()
