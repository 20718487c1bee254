"""Celery tasks of policies: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from policies.acceptance import current_version
from policies.evidence import acceptance_snapshots_monthly
from policies.links import links_remind, links_send
from policies.models import Policy, PolicyAssignment
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


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def policy_links_daily() -> int:
    """Every organization's assigned policies: links for the people newly covered (joiners)
    or whose link expired, then reminders. Idempotent within a day."""
    sent = 0
    for org in Organization.objects.order_by("pk"):
        with org_scope(org):
            policy_ids = set(
                PolicyAssignment.objects.for_org(org).values_list("policy_id", flat=True)
            )
            for policy in Policy.objects.for_org(org).filter(pk__in=policy_ids):
                version = current_version(policy)
                if version is None:
                    continue
                sent += links_send(version).sent + links_remind(version).sent
    return sent


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=60,
    max_retries=5,
    ignore_result=True,
    soft_time_limit=30 * 60,
    time_limit=35 * 60,
)
def policy_acceptance_evidence_monthly() -> int:
    """Every day: the previous month's acceptance snapshot of each policy that has none yet
    (policies.evidence); a second run the same month writes nothing."""
    return acceptance_snapshots_monthly()
