"""Celery tasks of policies: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from people import link_tasks
from policies.acceptance import current_version
from policies.evidence import acceptance_snapshots_monthly
from policies.links import PolicyLinks, links_remind, links_send
from policies.models import Policy, PolicyAssignment, PolicyVersion, VersionState
from tenants.context import org_scope
from tenants.models import Organization

logger = logging.getLogger(__name__)


@shared_task(**link_tasks.TASK_OPTIONS)
def policy_links_send(organization_id: int, policy_id: int) -> int:
    """Queue the personal links of the policy's current version to those who have none: one
    ``policy_links_batch`` task per ``BATCH`` people. Returns the number of batches."""

    def load(org: Organization) -> PolicyLinks | None:
        policy = Policy.objects.for_org(org).filter(pk=policy_id).first()
        version = current_version(policy) if policy else None
        return PolicyLinks(version) if version else None

    return link_tasks.batches_queue(organization_id, load, policy_links_batch)


@shared_task(**link_tasks.TASK_OPTIONS)
def policy_links_batch(organization_id: int, version_id: int, person_ids: list[int]) -> int:
    """E-mail the links of one batch: those of ``person_ids`` still to be asked."""

    def load(org: Organization) -> PolicyLinks | None:
        version = (
            PolicyVersion.objects.for_org(org)
            .select_related("policy", "organization")
            .filter(pk=version_id, state=VersionState.APPROVED)
            .first()
        )
        if version is None or current_version(version.policy) != version:
            return None  # replaced since: the new version asks again
        return PolicyLinks(version)

    return link_tasks.batch_run(organization_id, load, person_ids)


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
