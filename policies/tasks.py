"""Celery tasks of policies: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from policies.acceptance import current_version
from policies.links import links_batches, links_remind, links_send, links_send_batch
from policies.models import Policy, PolicyAssignment, PolicyVersion, VersionState
from tenants.context import org_scope
from tenants.models import Organization

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,  # a worker killed mid-run leaves the message queued; the rerun queues
    reject_on_worker_lost=True,  # the batches again, which send only what was not sent
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    max_retries=5,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
    ignore_result=True,
)
def policy_links_send(organization_id: int, policy_id: int) -> int:
    """Queue the personal links of the policy's current version to those who have none: one
    ``policy_links_batch`` task per ``BATCH`` people. Returns the number of batches."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        return 0
    with org_scope(org):
        policy = Policy.objects.for_org(org).filter(pk=policy_id).first()
        version = current_version(policy) if policy else None
        if version is None:
            return 0
        batches = links_batches(version)
    for person_ids in batches:
        policy_links_batch.delay(organization_id, version.pk, person_ids)
    logger.info("policy %s v%s: %s batches queued", policy_id, version.number, len(batches))
    return len(batches)


@shared_task(
    acks_late=True,  # a worker killed mid-batch leaves the message queued; the rerun sends
    reject_on_worker_lost=True,  # only the links it had not sent
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    max_retries=5,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
    ignore_result=True,
)
def policy_links_batch(organization_id: int, version_id: int, person_ids: list[int]) -> int:
    """E-mail the links of one batch: those of ``person_ids`` still to be asked."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        return 0
    with org_scope(org):
        version = (
            PolicyVersion.objects.for_org(org)
            .select_related("policy", "organization")
            .filter(pk=version_id, state=VersionState.APPROVED)
            .first()
        )
        if version is None or current_version(version.policy) != version:
            return 0  # replaced since: the new version asks again
        result = links_send_batch(version, person_ids)
    logger.info(
        "policy %s v%s: %s links sent, %s failed",
        version.policy_id,
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
