"""Risks' to-do items (``soc2app.todo``): for a risk's owner, an acceptance past its end date
(decide again: renew, mitigate, ...) and a review date that has passed; for every manager, the
periodic risk assessment when its next due date has passed, or it was never run and the
register holds risks. Two queries, three for an organization that never ran one."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from risks.assessment_selectors import assessment_due
from risks.models import Risk
from risks.selectors import acceptance_expired, owned_review_items
from soc2app.todo import TodoItem, Urgency
from tenants import permissions
from tenants.models import Membership
from tenants.permissions import Action


def risk_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    if getattr(membership, "is_api_key", False) or not permissions.can(
        membership, Action.RISK_MANAGE
    ):
        return []
    slug = membership.organization.slug
    items = _assessment_items(membership, today)
    for risk in owned_review_items(membership, today):
        url = reverse("risk_detail", kwargs={"org_slug": slug, "pk": risk.pk})
        if acceptance_expired(risk, today):
            items.append(
                TodoItem(
                    kind="risk.acceptance_expired",
                    title=f"Acceptance expired: decide again on “{risk.title}”",
                    url=url,
                    urgency=Urgency.OVERDUE,
                    due=risk.accepted_until,
                    owner=membership.user.email,
                    detail="Renew the acceptance with a new end date, or treat the risk",
                )
            )
        if risk.next_review_date < today:
            items.append(
                TodoItem(
                    kind="risk.review",
                    title=f"Review the risk “{risk.title}”",
                    url=url,
                    urgency=Urgency.OVERDUE,
                    due=risk.next_review_date,
                    owner=membership.user.email,
                    detail="Check its scores and treatment, then set the next review date",
                )
            )
    return items


def _assessment_items(membership: Membership, today: dt.date) -> list[TodoItem]:
    """Overdue: its next due date passed, or never run once the register holds a risk (an
    organization that has not started its register has nothing to assess yet)."""
    org_id = membership.organization_id
    due = assessment_due(org_id, today)
    if not due.overdue or (due.last is None and not Risk.objects.for_org(org_id).exists()):
        return []
    url = reverse("risk_assessment_run", kwargs={"org_slug": membership.organization.slug})
    if due.last is None:
        detail = "It has never been run: it freezes the register as evidence for CC3.1-CC3.4"
    else:
        detail = f"The last one was on {due.last:%d %b %Y}: its evidence is running out"
    return [
        TodoItem(
            kind="risk.assessment_overdue",
            title="Run the periodic risk assessment",
            url=url,
            urgency=Urgency.OVERDUE,
            due=due.next_due,
            owner=membership.user.email,
            detail=detail,
        )
    ]
