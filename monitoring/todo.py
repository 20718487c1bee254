"""Monitoring's to-do items (``soc2app.todo``): the member's open findings, one item per
failing test (the earliest due date of its findings), overdue once that date has passed."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Min
from django.urls import reverse

from monitoring.models import Finding, FindingState
from soc2app.todo import TodoItem, Urgency
from tenants.models import Membership

DUE_SOON_DAYS = 7


def monitoring_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    """One query: per check, the member's open findings and their earliest due date."""
    if getattr(membership, "is_api_key", False):
        return []
    rows = (
        Finding.objects.for_org(membership.organization_id)
        .filter(owner_id=membership.pk, state=FindingState.OPEN)
        .values("check_ref_id", "check_ref__title")
        .annotate(n=Count("id"), due=Min("due_date"))
        .order_by("due", "check_ref__title")
    )
    slug = membership.organization.slug
    items = []
    for row in rows:
        due = row["due"]
        if due < today:
            urgency = Urgency.OVERDUE
        elif due <= today + dt.timedelta(days=DUE_SOON_DAYS):
            urgency = Urgency.DUE_SOON
        else:
            urgency = Urgency.TODO
        n = row["n"]
        items.append(
            TodoItem(
                kind="monitoring.finding",
                title=f"Fix the failing test {row['check_ref__title']}",
                url=reverse(
                    "monitoring_check", kwargs={"org_slug": slug, "pk": row["check_ref_id"]}
                ),
                urgency=urgency,
                due=due,
                owner=membership.user.email,
                detail=f"{n} open finding{'s' if n != 1 else ''}",
            )
        )
    return items
