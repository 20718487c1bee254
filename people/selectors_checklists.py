"""Reads of the joiners' and leavers' checklists: the organization's list (open or late,
counts annotated: one query a page), a person's checklists with their items, one item, and a
member's open items (their to-do)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet

from controls.models import Control
from people.models import Person
from people.models_checklists import Checklist, ChecklistItem, ChecklistKind, ChecklistTemplate
from soc2app.errors import NotFound
from tenants.models import Membership, Organization


class ChecklistState:
    OPEN = "open"
    DONE = "done"
    ANY = "all"
    CHOICES = ((OPEN, "Open"), (DONE, "Completed"), (ANY, "All"))


@dataclass(frozen=True)
class ChecklistFilter:
    kind: str = ""
    late: bool = False
    state: str = ChecklistState.OPEN
    person: int | None = None


def _late(today: dt.date, prefix: str = "") -> Q:
    """An item done after its due date, or still open after it."""
    return Q(**{f"{prefix}done_on__isnull": True, f"{prefix}due_date__lt": today}) | Q(
        **{f"{prefix}done_on__gt": F(f"{prefix}due_date")}
    )


def checklist_list(
    org: Organization | int, filters: ChecklistFilter, *, today: dt.date
) -> QuerySet[Checklist]:
    """Checklists with their person and counts (``item_count``, ``open_count``,
    ``late_count``), most recent date first."""
    rows = (
        Checklist.objects.for_org(org)
        .select_related("person")
        .annotate(
            item_count=Count("items"),
            open_count=Count("items", filter=Q(items__done_on__isnull=True)),
            late_count=Count("items", filter=_late(today, "items__")),
        )
    )
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.state == ChecklistState.OPEN:
        rows = rows.filter(completed_at__isnull=True)
    elif filters.state == ChecklistState.DONE:
        rows = rows.filter(completed_at__isnull=False)
    if filters.person is not None:
        rows = rows.filter(person_id=filters.person)
    if filters.late:
        rows = rows.filter(late_count__gt=0)
    return rows.order_by("-anchor_date", "-id")


def _items(org: Organization | int) -> QuerySet[ChecklistItem]:
    return ChecklistItem.objects.for_org(org).select_related(
        "owner__user", "control", "evidence__item"
    )


def checklists_of(org: Organization | int, person: Person) -> list[Checklist]:
    """A person's checklists, each with its items (two queries)."""
    return list(
        Checklist.objects.for_org(org)
        .filter(person=person)
        .select_related("person")
        .prefetch_related(Prefetch("items", queryset=_items(org)))
        .order_by("kind")
    )


def checklist_get(org: Organization | int, pk: object) -> Checklist:
    """One checklist with its person and items; another organization's is "not found"."""
    text = str(pk)
    found = None
    if text.isascii() and text.isdigit() and len(text) < 19:
        found = (
            Checklist.objects.for_org(org)
            .select_related("person")
            .prefetch_related(Prefetch("items", queryset=_items(org)))
            .filter(pk=int(text))
            .first()
        )
    if found is None:
        raise NotFound("No such checklist.")
    return found


def item_get(org: Organization | int, pk: object) -> ChecklistItem:
    """One item with what completing it needs; another organization's is "not found"."""
    text = str(pk)
    found = None
    if text.isascii() and text.isdigit() and len(text) < 19:
        found = (
            _items(org)
            .select_related("checklist__person", "checklist__organization")
            .filter(pk=int(text))
            .first()
        )
    if found is None:
        raise NotFound("No such checklist item.")
    return found


def open_items_of(
    membership: Membership, *, due_by: dt.date | None = None, limit: int | None = None
) -> list[ChecklistItem]:
    """The open items ``membership`` owns (due by ``due_by``), earliest due first (one
    query)."""
    if getattr(membership, "is_api_key", False):
        return []
    rows = (
        ChecklistItem.objects.for_org(membership.organization_id)
        .filter(owner=membership, done_on__isnull=True)
        .select_related("checklist__person", "control")
        .order_by("due_date", "pk")
    )
    if due_by is not None:
        rows = rows.filter(due_date__lte=due_by)
    return list(rows[:limit] if limit else rows)


def templates_of(org: Organization | int) -> dict[str, ChecklistTemplate | None]:
    found = {t.kind: t for t in ChecklistTemplate.objects.for_org(org)}
    return {kind: found.get(kind) for kind in ChecklistKind.values}


def control_choices(org: Organization | int) -> list[tuple[int, str]]:
    """The organization's controls as form choices ("IAM-05 — Access removed ...")."""
    rows = Control.objects.for_org(org).order_by("code").values_list("pk", "code", "title")
    return [(pk, f"{code} — {title}"[:120]) for pk, code, title in rows]
