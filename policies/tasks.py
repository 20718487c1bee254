"""Celery tasks of policies: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from policies.acceptance import current_version, links_send
from policies.models import Policy
from tenants.context import org_scope
from tenants.models import Organization

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,  # a worker killed mid-run leaves the message queued; the rerun resends
    reject_on_worker_lost=True,  # only the links it had not sent
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    max_retries=5,
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
    ignore_result=True,
)
def policy_links_send(organization_id: int, policy_id: int) -> int:
    """E-mail the personal links of the policy's current version to those who have none."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        return 0
    with org_scope(org):
        policy = Policy.objects.for_org(org).filter(pk=policy_id).first()
        version = current_version(policy) if policy else None
        if version is None:
            return 0
        result = links_send(version)
    logger.info(
        "policy %s v%s: %s links sent, %s failed",
        policy_id,
        version.number,
        result.sent,
        result.failed,
    )
    return result.sent
