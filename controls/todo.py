"""Controls' to-do items (``soc2app.todo``): the member's own controls past, or near, the
date they should be implemented. (Whether they have current evidence is evidence's part:
``evidence.todo``.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse

from controls.models import Control, ControlStatus
from soc2app.todo import TodoItem, Urgency
from tenants.models import Membership

DUE_SOON_DAYS = 14
UNFINISHED = (ControlStatus.NOT_STARTED, ControlStatus.IN_PROGRESS)


@dataclass(frozen=True)
class NextDue:
    """What a control needs next and by when, by the to-do list's rules: implementing it (its
    due date) here, its evidence in ``evidence.todo.evidence_due``; ``evidence.todo.next_due``
    picks the sooner for the control pages and the control matrix."""

    action: str  # "Implement", "Add evidence", "Upload current evidence", "Renew evidence"
    date: dt.date | None  # None: due now, with no date to show (no evidence yet)
    overdue: bool = False


def implementation_due(control: Control, today: dt.date) -> NextDue | None:
    """An unfinished control with a due date must be implemented by then."""
    if control.status not in UNFINISHED or control.due_date is None:
        return None
    late = urgency_for(control.due_date, today) == Urgency.OVERDUE
    return NextDue("Implement", control.due_date, overdue=late)


def urgency_for(due: dt.date | None, today: dt.date) -> Urgency:
    """How pressing work with this due date is: past it, within DUE_SOON_DAYS, or neither
    (also without a date). Shared by the to-do items and the readiness dashboard's next
    actions, so a control is "overdue" in the same sense on both pages."""
    if due is None:
        return Urgency.TODO
    if due < today:
        return Urgency.OVERDUE
    if due <= today + dt.timedelta(days=DUE_SOON_DAYS):
        return Urgency.DUE_SOON
    return Urgency.TODO


@dataclass(frozen=True)
class ControlDue:
    """When a control should be implemented: its date and whether that has passed, or why
    it has none (the readiness PDF's gaps table says so instead of a blank)."""

    date: dt.date | None
    late: bool = False
    why_none: str = ""


def control_due(control: Control, today: dt.date) -> ControlDue:
    """The due date the to-do list and the reports use: only unfinished controls have one."""
    if control.status == ControlStatus.NOT_APPLICABLE:
        return ControlDue(None, why_none="No due date: marked not applicable")
    if control.status not in UNFINISHED:
        return ControlDue(None, why_none="No due date: implemented, evidence is what is missing")
    due = implementation_due(control, today)
    if due is None:
        return ControlDue(None, why_none="No due date set: set one")
    return ControlDue(due.date, late=due.overdue)


def control_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    """One query: the member's unfinished controls due within DUE_SOON_DAYS or past due."""
    if getattr(membership, "is_api_key", False):
        return []
    controls = (
        Control.objects.for_org(membership.organization_id)
        .filter(
            owner_id=membership.pk,
            status__in=UNFINISHED,
            due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS),
        )
        .order_by("due_date", "code")
    )
    items = []
    for control in controls:
        late = urgency_for(control.due_date, today) == Urgency.OVERDUE
        items.append(
            TodoItem(
                kind="control.overdue" if late else "control.due_soon",
                title=f"Implement {control.code} {control.title}",
                url=reverse(
                    "control_detail",
                    kwargs={"org_slug": membership.organization.slug, "pk": control.pk},
                ),
                urgency=Urgency.OVERDUE if late else Urgency.DUE_SOON,
                due=control.due_date,
                owner=membership.user.email,
                detail=f"{control.get_status_display()}, past its due date"
                if late
                else f"{control.get_status_display()}, due soon",
            )
        )
    return items
