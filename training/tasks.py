"""Celery tasks of training: thin wrappers around training.links."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from tenants.context import org_scope
from tenants.models import Organization
from training.evidence import completion_snapshots_monthly
from training.links import links_send
from training.models import TrainingAssignment, TrainingRequirement

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=30,
    max_retries=5,
    soft_time_limit=20 * 60,
    time_limit=25 * 60,
    ignore_result=True,
)
def training_links_send(organization_id: int, requirement_id: int) -> int:
    """E-mail the requirement's links due now (after an assignment)."""
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        return 0
    with org_scope(org):
        req = TrainingRequirement.objects.for_org(org).filter(pk=requirement_id).first()
        if req is None:
            return 0
        result = links_send(req)
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
