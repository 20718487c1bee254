"""The roster's to-do item (``soc2app.todo``): for managers, how many leavers are past the
retention period and can be anonymised (``people.anonymise``). One COUNT on the
(organization, end date) index, whatever the roster's size; nothing for anyone else."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from people.anonymise import retention_days, retention_due
from soc2app.todo import TodoItem, Urgency
from tenants import permissions
from tenants.models import Membership
from tenants.permissions import Action


def retention_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    if getattr(membership, "is_api_key", False):
        return []
    if not permissions.can(membership, Action.PEOPLE_MANAGE):
        return []
    due = retention_due(membership.organization, today).count()
    if not due:
        return []
    slug = membership.organization.slug
    return [
        TodoItem(
            kind="people.anonymise",
            title=f"{due} {'person' if due == 1 else 'people'} past retention can be anonymised",
            url=reverse("people_anonymise_due", kwargs={"org_slug": slug}),
            urgency=Urgency.TODO,
            owner=membership.user.email,
            detail=f"Leavers whose last day is more than {retention_days()} days ago",
        )
    ]
