"""Evidence's to-do items (``soc2app.todo``), per control the member owns: no evidence for
the current period (none yet, or only stale evidence), evidence running out soon, and
rejected evidence; for reviewers, what awaits their review.

Freshness is judged per control, not per item: a control keeps one item per period (the
monthly export of May, of June ...), and last spring's export going stale is no work while
this month's is current. The control needs someone when nothing valid today covers it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.conf import settings
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from controls.models import Control, ControlStatus
from controls.todo import NextDue, implementation_due
from evidence.models import DELIVERABLE_SCAN_STATES, EvidenceVersion, ReviewState
from evidence.selectors import live_versions
from soc2app.todo import TodoItem, Urgency
from tenants import permissions
from tenants.models import Membership
from tenants.permissions import Action

REVIEW_LATE_DAYS = 7  # evidence waiting longer than a week for review is late work


def _counting(org_id: int) -> object:
    """Latest versions of the control's live items that count: deliverable, not rejected."""
    return (
        live_versions(EvidenceVersion.objects.for_org(org_id))
        .filter(item__control_id=OuterRef("pk"), scan_state__in=DELIVERABLE_SCAN_STATES)
        .exclude(review_state=ReviewState.REJECTED)
    )


def with_evidence_state(controls: QuerySet[Control], org: int) -> QuerySet[Control]:
    """``controls`` with ``valid_until`` (the latest date their evidence counts to, None
    without any) and ``has_evidence`` (any version ever): two subqueries, no extra query."""
    until = (
        _counting(org).order_by().values("item__control_id").annotate(m=Max("valid_until"))
    ).values("m")
    return controls.annotate(
        valid_until=Subquery(until[:1]),
        has_evidence=Exists(
            EvidenceVersion.objects.for_org(org).filter(item__control_id=OuterRef("pk"))
        ),
    )


def _with_evidence_state(org: int) -> QuerySet[Control]:
    """Applicable controls with their evidence state (``with_evidence_state``)."""
    return with_evidence_state(
        Control.objects.for_org(org).exclude(status=ControlStatus.NOT_APPLICABLE), org
    )


def evidence_due(control: Control, today: dt.date) -> NextDue | None:
    """What the control's evidence needs (``control`` from ``with_evidence_state``): current
    evidence when nothing valid today covers it (overdue when it had some), else renewing by
    the day it stops counting. Nothing for not-applicable controls, nor for a control not
    started without evidence (its implementation date is ``controls.todo``'s)."""
    if control.status == ControlStatus.NOT_APPLICABLE:
        return None
    if control.valid_until is None or control.valid_until < today:
        if control.has_evidence:
            return NextDue("Upload current evidence", control.valid_until, overdue=True)
        if control.status == ControlStatus.NOT_STARTED:
            return None
        return NextDue("Add evidence", None)
    return NextDue("Renew evidence", control.valid_until)


def next_due(control: Control, today: dt.date) -> NextDue | None:
    """The sooner of implementing the control and its evidence (``control`` from
    ``with_evidence_state``): overdue work first, then the earliest date, then undated work."""
    candidates = [
        due for due in (implementation_due(control, today), evidence_due(control, today)) if due
    ]
    return min(
        candidates,
        key=lambda d: (not d.overdue, d.date is None, d.date or dt.date.max),
        default=None,
    )


def controls_with_evidence_state(membership: Membership) -> list[Control]:
    """The member's applicable controls with their evidence state: one query."""
    return list(
        _with_evidence_state(membership.organization_id)
        .filter(owner_id=membership.pk)
        .order_by("code")
    )


def _control_item(membership: Membership, control: Control, today: dt.date) -> TodoItem | None:
    url = reverse(
        "evidence_add", kwargs={"org_slug": membership.organization.slug, "control_pk": control.pk}
    )
    name = f"{control.code} {control.title}"
    soon = today + dt.timedelta(days=settings.EVIDENCE_EXPIRING_DAYS)
    common = {"url": url, "owner": membership.user.email}
    due = evidence_due(control, today)
    if due is None:
        # Nothing to show yet: its implementation date is ``controls.todo``'s item.
        return None
    if due.overdue:
        return TodoItem(
            kind="evidence.stale",
            title=f"Upload current evidence for {name}",
            urgency=Urgency.OVERDUE,
            due=due.date,
            detail="Its evidence is stale: nothing covers the current period",
            **common,
        )
    if due.date is None:
        return TodoItem(
            kind="control.needs_evidence",
            title=f"Add evidence for {name}",
            urgency=Urgency.TODO,
            detail="No evidence yet for the current period",
            **common,
        )
    if due.date < soon:
        return TodoItem(
            kind="evidence.expiring",
            title=f"Renew evidence for {name}",
            urgency=Urgency.DUE_SOON,
            due=control.valid_until,
            detail="Its evidence stops counting soon",
            **common,
        )
    return None


def _rejected_item(membership: Membership, version: EvidenceVersion) -> TodoItem:
    return TodoItem(
        kind="evidence.rejected",
        title=f"Replace rejected evidence: {version.item.title} ({version.item.control.code})",
        url=reverse(
            "evidence_item",
            kwargs={"org_slug": membership.organization.slug, "pk": version.item_id},
        ),
        urgency=Urgency.OVERDUE,
        owner=membership.user.email,
        detail=version.review_comment[:120] or "The reviewer rejected it",
    )


def _review_item(
    membership: Membership, count: int, oldest: dt.datetime, today: dt.date
) -> TodoItem:
    url = reverse("evidence_overview", kwargs={"org_slug": membership.organization.slug})
    waited = max((today - oldest.date()).days, 0)
    return TodoItem(
        kind="evidence.awaiting_review",
        title=f"Review {count} piece{'s' if count != 1 else ''} of evidence",
        url=f"{url}?state=pending",
        urgency=Urgency.DUE_SOON if waited > REVIEW_LATE_DAYS else Urgency.TODO,
        # Reviewed within a week of upload: the date places it among the dated work.
        due=oldest.date() + dt.timedelta(days=REVIEW_LATE_DAYS),
        owner=membership.user.email,
        detail="The oldest came in today"
        if waited == 0
        else f"The oldest has waited {waited} day{'s' if waited != 1 else ''}",
    )


def evidence_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    """Three queries: the member's controls, their rejected evidence, what awaits review."""
    if getattr(membership, "is_api_key", False):
        return []
    org = membership.organization_id
    items = [
        item
        for control in controls_with_evidence_state(membership)
        if (item := _control_item(membership, control, today)) is not None
    ]
    rejected = (
        live_versions(EvidenceVersion.objects.for_org(org))
        .filter(review_state=ReviewState.REJECTED, item__control__owner_id=membership.pk)
        .select_related("item__control")
        .order_by("uploaded_at", "pk")
    )
    items += [_rejected_item(membership, v) for v in rejected]
    if permissions.can(membership, Action.EVIDENCE_REVIEW):
        pending = live_versions(EvidenceVersion.objects.for_org(org)).filter(
            review_state=ReviewState.PENDING
        )
        if membership.organization.require_independent_review:
            # They may not review their own uploads: those are someone else's work.
            pending = pending.exclude(uploaded_by_id=membership.user_id)
        waiting = pending.aggregate(count=Count("pk"), oldest=Min("uploaded_at"))
        if waiting["count"]:
            items.append(_review_item(membership, waiting["count"], waiting["oldest"], today))
    return items


def late_evidence_by_owner(org_id: int, today: dt.date) -> dict[str, int]:
    """Controls whose evidence is stale (they had some, nothing counts today) or rejected,
    counted per owner's email ("" = nobody owns it): one query."""
    rejected = Exists(
        live_versions(EvidenceVersion.objects.for_org(org_id)).filter(
            item__control_id=OuterRef("pk"), review_state=ReviewState.REJECTED
        )
    )
    late = (
        _with_evidence_state(org_id)
        .annotate(rejected=rejected)
        .filter(
            Q(rejected=True)
            | Q(has_evidence=True) & (Q(valid_until__isnull=True) | Q(valid_until__lt=today))
        )
        .values_list("owner__user__email", flat=True)
    )
    return dict(Counter(email or "" for email in late))


def next_due_for(control: Control, today: dt.date) -> NextDue | None:
    """``next_due`` of one control fetched without its evidence state: one query."""
    org = control.organization_id
    controls = Control.objects.for_org(org).filter(pk=control.pk)
    return next_due(with_evidence_state(controls, org).get(), today)
