"""Checklists' to-do items (``soc2app.todo``): the open joiners' and leavers' checklist items
a member owns, due within ``SOON_DAYS`` or overdue, earliest first. One query whatever the
number of checklists (at most ``LIMIT`` items are listed; the page lists them all)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from people.selectors_checklists import open_items_of
from soc2app.todo import TodoItem, Urgency
from tenants.models import Membership

SOON_DAYS = 14
LIMIT = 20


def checklist_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    if getattr(membership, "is_api_key", False):
        return []
    soon = today + dt.timedelta(days=SOON_DAYS)
    url = reverse("checklist_mine", kwargs={"org_slug": membership.organization.slug})
    items = []
    for item in open_items_of(membership, due_by=soon, limit=LIMIT):
        checklist = item.checklist
        items.append(
            TodoItem(
                kind="checklist.item",
                title=f"{item.title}: {checklist.person.full_name}",
                url=url,
                urgency=Urgency.OVERDUE if item.due_date < today else Urgency.DUE_SOON,
                due=item.due_date,
                owner=membership.user.email,
                detail=f"{checklist.get_kind_display()} checklist",
            )
        )
    return items
