"""Risks' to-do items (``soc2app.todo``): for a risk's owner, an acceptance past its end date
(decide again: renew, mitigate, ...) and a review date that has passed. One query."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

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
    items = []
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
