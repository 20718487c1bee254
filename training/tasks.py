"""Celery tasks of training: thin wrappers around training.links."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from people import link_tasks
from tenants.context import org_scope
from tenants.models import Organization
from training.evidence import completion_snapshots_monthly
from training.links import TrainingLinks, links_send
from training.models import TrainingAssignment, TrainingRequirement

logger = logging.getLogger(__name__)


def _load(requirement_id: int):
    def load(org: Organization) -> TrainingLinks | None:
        req = (
            TrainingRequirement.objects.for_org(org)
            .select_related("organization")
            .filter(pk=requirement_id)
            .first()
        )
        return TrainingLinks(req) if req else None

    return load


@shared_task(**link_tasks.TASK_OPTIONS)
def training_links_send(organization_id: int, requirement_id: int) -> int:
    """Queue the requirement's new links due now (after an assignment): one
    ``training_links_batch`` task per ``BATCH`` people. Returns the number of batches."""
    return link_tasks.batches_queue(organization_id, _load(requirement_id), training_links_batch)


@shared_task(**link_tasks.TASK_OPTIONS)
def training_links_batch(organization_id: int, requirement_id: int, person_ids: list[int]) -> int:
    """E-mail the links of one batch: those of ``person_ids`` still due one."""
    return link_tasks.batch_run(organization_id, _load(requirement_id), person_ids)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def training_links_daily() -> int:
    """Every organization's assigned requirements: links for joiners, for the next cycle
    coming due, expired links again, and reminders. Idempotent within a day."""
    sent = 0
    for org in Organization.objects.order_by("pk"):
        with org_scope(org):
            ids = set(
                TrainingAssignment.objects.for_org(org).values_list("requirement_id", flat=True)
            )
            for req in TrainingRequirement.objects.for_org(org).filter(pk__in=ids):
                sent += links_send(req).sent
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
def training_evidence_monthly() -> int:
    """Every day: the previous month's completion snapshot of each requirement that has none
    yet (training.evidence); a second run the same month writes nothing."""
    return completion_snapshots_monthly()
