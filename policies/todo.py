"""Policies' to-do items (``soc2app.todo``): policies to accept (for a member linked to a
person of the roster), versions awaiting the member's approval, and reviews of the policies
they own (overdue after the review date, due soon a month before)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from policies.acceptance import member_person
from policies.models import Policy, PolicyVersion, VersionState
from policies.selectors_acceptance import pending_for
from soc2app.todo import TodoItem, Urgency
from tenants.models import Membership

REVIEW_SOON_DAYS = 30


def policy_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    if getattr(membership, "is_api_key", False):
        return []
    org, slug = membership.organization, membership.organization.slug
    email = membership.user.email

    def url(name: str, pk: int) -> str:
        return reverse(name, kwargs={"org_slug": slug, "pk": pk})

    items = []
    person = member_person(membership)
    for policy in pending_for(person, today) if person else []:
        items.append(
            TodoItem(
                kind="policy.accept",
                title=f"Read and accept the {policy.title}",
                url=url("policy_accept_in_app", policy.pk),
                urgency=Urgency.TODO,
                owner=email,
                detail=f"Version {policy.current_number}",
            )
        )
    waiting = (
        PolicyVersion.objects.for_org(org)
        .filter(state=VersionState.IN_REVIEW, policy__approver_id=membership.pk)
        .select_related("policy")
        .order_by("submitted_at")
    )
    for version in waiting:
        items.append(
            TodoItem(
                kind="policy.approve",
                title=f"Approve or return v{version.number} of the {version.policy.title}",
                url=url("policy_detail", version.policy_id),
                urgency=Urgency.DUE_SOON,
                owner=email,
                detail=f"Sent by {version.edited_by_label}" if version.edited_by_label else "",
            )
        )
    soon = today + dt.timedelta(days=REVIEW_SOON_DAYS)
    owned = Policy.objects.for_org(org).filter(owner_id=membership.pk, next_review_date__lte=soon)
    for policy in owned.order_by("next_review_date"):
        overdue = policy.next_review_date < today
        items.append(
            TodoItem(
                kind="policy.review",
                title=f"Review the {policy.title}",
                url=url("policy_detail", policy.pk),
                urgency=Urgency.OVERDUE if overdue else Urgency.DUE_SOON,
                due=policy.next_review_date,
                owner=email,
                detail="Start a new version; approving it unchanged records the review",
            )
        )
    return items
