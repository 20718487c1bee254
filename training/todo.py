"""Training's to-do items (``soc2app.todo``): for a member linked to a person of the roster,
their training due within ``SOON_DAYS`` or overdue; for managers, how many people are overdue.
A constant number of queries whatever the roster's size."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from policies.acceptance import member_person
from soc2app.todo import TodoItem, Urgency
from tenants import permissions
from tenants.models import Membership
from training import selectors
from training.services import MANAGE

SOON_DAYS = 30


def training_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    if getattr(membership, "is_api_key", False):
        return []
    org, slug = membership.organization, membership.organization.slug
    email = membership.user.email
    items = []
    person = member_person(membership)
    if person is not None:
        reqs = selectors.requirements_of(org)
        mine = selectors.statuses(org, today, reqs, person_id=person.pk)
        soon = today + dt.timedelta(days=SOON_DAYS)
        for req in reqs:
            for status in mine[req.pk]:
                if status.due_on is None or status.due_on > soon:
                    continue
                items.append(
                    TodoItem(
                        kind="training.complete",
                        title=f"Complete the training \u201c{req.title}\u201d",
                        url=reverse("training_complete", kwargs={"org_slug": slug, "pk": req.pk}),
                        urgency=Urgency.OVERDUE if status.overdue else Urgency.DUE_SOON,
                        due=status.due_on,
                        owner=email,
                    )
                )
    if permissions.can(membership, MANAGE):
        overdue = selectors.overdue_people_count(org, today)
        if overdue:
            items.append(
                TodoItem(
                    kind="training.overdue",
                    title=f"{overdue} {'person is' if overdue == 1 else 'people are'} "
                    "overdue on training",
                    url=reverse("training", kwargs={"org_slug": slug}),
                    urgency=Urgency.OVERDUE,
                    owner=email,
                    detail="Remind them, or record completions from your learning platform",
                )
            )
    return items
