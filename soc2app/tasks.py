"""Celery tasks of the project itself: jobs that span apps. Thin: they call services."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from soc2app.task_options import rerunnable
from sso import recheck as sso_recheck
from tenants.context import org_scope
from tenants.models import Organization
from trust import recheck as trust_recheck

logger = logging.getLogger(__name__)


def domains_recheck_org(org: Organization, *, now: dt.datetime) -> list[str]:
    """One organization's part of the daily re-check, under its own scope: the domains that
    lost verification."""
    with org_scope(org):
        names = sso_recheck.sso_domains_recheck(organization=org, now=now)
        names += trust_recheck.trust_domain_recheck(organization=org, now=now)
    return names


def organizations_due(now: dt.datetime) -> list[int]:
    return sorted(sso_recheck.organizations_due(now) | trust_recheck.organizations_due(now))


def domains_recheck_all(*, now: dt.datetime | None = None) -> dict[str, list[str]]:
    """The whole re-check in this process, organization by organization (what the tasks below
    do, one task per organization); per slug, the domains that lost verification."""
    now = now or timezone.now()
    lost: dict[str, list[str]] = {}
    for org in Organization.objects.filter(pk__in=organizations_due(now)).order_by("pk"):
        if names := domains_recheck_org(org, now=now):
            lost[org.slug] = names
    return lost


@shared_task(name="soc2app.domains_recheck_daily", **rerunnable(retry_backoff=60))
def domains_recheck_daily() -> int:
    """The daily re-check of verified domains (``soc2app.domain_recheck``): one task per
    organization holding a domain due, each with its own time limit, so that an organization
    whose DNS or web site answers slowly (or on purpose, a byte at a time) delays only its own
    check, never the others'. Sending them again is harmless: a row is checked once a day."""
    ids = organizations_due(timezone.now())
    for org_id in ids:
        domains_recheck_organization.delay(org_id)
    logger.info("domain re-check: %d organizations to visit", len(ids))
    return len(ids)


@shared_task(
    name="soc2app.domains_recheck_organization",
    **rerunnable(retry_backoff=60, soft_time_limit=5 * 60, time_limit=6 * 60),
)
def domains_recheck_organization(org_id: int) -> list[str]:
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:  # deleted since the daily task listed it
        return []
    try:
        names = domains_recheck_org(org, now=timezone.now())
    except SoftTimeLimitExceeded:
        logger.warning("domain re-check of %s ran out of time: checked again tomorrow", org.slug)
        return []
    if names:
        logger.info("domain re-check of %s: unverified %s", org.slug, names)
    return names
