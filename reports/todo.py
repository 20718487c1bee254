"""Requests for information on the to-do list (``soc2app.todo``): members who answer them
see every open request of the organization's audits; others see the open requests about
controls they own. (Auditors never reach the home: their own items stay in the portal.)"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from controls.models import AuditStatus
from reports.models import InfoRequest, RequestStatus
from soc2app.todo import TodoItem, Urgency
from tenants import permissions
from tenants.models import Membership
from tenants.permissions import Action

DUE_SOON_DAYS = 7


def request_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    """One query: open requests (of audits not completed) due to this member."""
    if getattr(membership, "is_api_key", False):
        return []
    requests = (
        InfoRequest.objects.for_org(membership.organization_id)
        .filter(status=RequestStatus.OPEN)
        .exclude(audit__status=AuditStatus.COMPLETED)
        .select_related("audit", "control")
        .order_by("due_date", "pk")
    )
    if not permissions.can(membership, Action.REQUEST_ANSWER):
        requests = requests.filter(control__owner_id=membership.pk)
    slug = membership.organization.slug
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    items = []
    for req in requests:
        late = req.due_date < today
        if late:
            urgency = Urgency.OVERDUE
        elif req.due_date <= soon:
            urgency = Urgency.DUE_SOON
        else:
            urgency = Urgency.TODO
        about = f" ({req.control.code})" if req.control else ""
        items.append(
            TodoItem(
                kind="request.overdue" if late else "request.due",
                title=f"Answer PBC-{req.number}: {req.title}{about}",
                url=reverse(
                    "request_detail",
                    kwargs={"org_slug": slug, "audit_pk": req.audit_id, "pk": req.pk},
                ),
                urgency=urgency,
                due=req.due_date,
                detail=f"Request for information, {req.audit.name}",
            )
        )
    return items
