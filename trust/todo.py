"""The trust center's to-do item (``soc2app.todo``): for owners and admins, the requests for
private documents waiting for a decision. One query."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from soc2app.todo import TodoItem, Urgency
from tenants import permissions
from tenants.models import Membership
from trust.models import RequestStatus, TrustRequest
from trust.permissions import MANAGE


def trust_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    if getattr(membership, "is_api_key", False) or not permissions.can(membership, MANAGE):
        return []
    org = membership.organization
    pending = TrustRequest.objects.for_org(org).filter(status=RequestStatus.PENDING).count()
    if not pending:
        return []
    return [
        TodoItem(
            kind="trust.requests",
            title=f"Decide {pending} request{'s' if pending != 1 else ''} for trust center "
            "documents",
            url=reverse("trust_requests", kwargs={"org_slug": org.slug}),
            urgency=Urgency.TODO,
            detail="Visitors accepted the NDA and wait for their download link",
        )
    ]
