"""Celery tasks of people: the daily record of checklist items still open after their due
date (thin: ``people.checklist_items.checklists_record_overdue`` per organization)."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from people.checklist_items import checklists_record_overdue
from people.models_checklists import ChecklistItem
from soc2app.task_options import rerunnable
from tenants.context import org_scope
from tenants.models import Organization

logger = logging.getLogger(__name__)


def organizations_with_overdue_items(today: dt.date) -> list[Organization]:
    """Organizations holding an open checklist item past its due date not recorded yet."""
    ids = (
        ChecklistItem.objects.dangerously_unscoped(reason="checklist sweep: organizations to visit")
        .filter(done_on__isnull=True, due_date__lt=today, overdue_recorded_at__isnull=True)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    return list(Organization.objects.filter(pk__in=set(ids)).order_by("slug"))


def overdue_checklists_sweep(*, today: dt.date | None = None) -> dict[str, int]:
    """Every organization's newly overdue items; per slug, how many were recorded."""
    today = today or timezone.localdate()
    done = {}
    for org in organizations_with_overdue_items(today):
        with org_scope(org):
            done[org.slug] = checklists_record_overdue(org, today=today)
    logger.info("overdue checklist items %s: %s", today, done)
    return done


@shared_task(
    name="people.sweep_overdue_checklist_items",
    **rerunnable(soft_time_limit=20 * 60, time_limit=25 * 60),
)
def sweep_overdue_checklist_items() -> dict[str, int]:
    """Celery beat, daily: checklist items still open after their due date, recorded once
    each as a failing system-generated version on their control."""
    return overdue_checklists_sweep()
