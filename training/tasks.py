"""Celery tasks of training: thin wrappers around training.links."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from tenants.context import org_scope
from tenants.models import Organization
from training.links import links_batches, links_send, links_send_batch
from training.models import TrainingAssignment, TrainingRequirement

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,  # a rerun queues the batches again; they send only what was not sent
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    max_retries=5,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
    ignore_result=True,
)
def training_links_send(organization_id: int, requirement_id: int) -> int:
    """Queue the requirement's new links due now (after an assignment): one
    ``training_links_batch`` task per ``BATCH`` people. Returns the number of batches."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        return 0
    with org_scope(org):
        req = TrainingRequirement.objects.for_org(org).filter(pk=requirement_id).first()
        if req is None:
            return 0
        batches = links_batches(req)
    for person_ids in batches:
        training_links_batch.delay(organization_id, req.pk, person_ids)
    logger.info("training %s: %s batches queued", req.pk, len(batches))
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
def training_links_batch(organization_id: int, requirement_id: int, person_ids: list[int]) -> int:
    """E-mail the links of one batch: those of ``person_ids`` still due one."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        return 0
    with org_scope(org):
        req = (
            TrainingRequirement.objects.for_org(org)
            .select_related("organization")
            .filter(pk=requirement_id)
            .first()
        )
        if req is None:
            return 0
        result = links_send_batch(req, person_ids)
    logger.info("training %s: %s links sent, %s failed", req.pk, result.sent, result.failed)
    return result.sent


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
