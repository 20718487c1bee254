"""Reads of training: who each requirement covers and, per person, the last completion, the
next due date and whether it is overdue. Set-based: whatever the number of people and
requirements, an overview costs the same few queries (requirements, assignments, people,
last completions); the dates are then computed in Python.

Rules: first due = start date + ``due_days``; after a completion, next due = last completion
+ ``every_months`` (0: once, then never due again); overdue = due date before today.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Max, QuerySet

from controls.periods import add_months
from people.assignments import covers, people_active
from training.models import TrainingAssignment, TrainingCompletion, TrainingRequirement


def due_date(req: TrainingRequirement, start: dt.date, last: dt.date | None) -> dt.date | None:
    if last is None:
        return start + dt.timedelta(days=req.due_days)
    if req.every_months == 0:
        return None
    return add_months(last, req.every_months)


@dataclass(frozen=True)
class PersonStatus:
    person_id: int
    full_name: str
    email: str
    department: str
    last_completed: dt.date | None
    due_on: dt.date | None
    overdue: bool

    @property
    def current(self) -> bool:
        return self.last_completed is not None and not self.overdue


@dataclass
class RequirementSummary:
    requirement: TrainingRequirement
    covered: int = 0
    current: int = 0
    overdue: int = 0


_PERSON_FIELDS = ("pk", "full_name", "email", "department", "start_date")


def statuses(
    org: object,
    today: dt.date,
    requirements: list[TrainingRequirement],
    *,
    person_id: int | None = None,
    person_ids: list[int] | None = None,
) -> dict[int, list[PersonStatus]]:
    """Requirement id -> the status of every person it covers today (ordered by name), in
    three queries (assignments, people, last completions); only ``person_id`` or those of
    ``person_ids`` when given."""
    ids = [r.pk for r in requirements]
    assignments: dict[int, list] = defaultdict(list)
    for req_id, *row in (
        TrainingAssignment.objects.for_org(org)
        .filter(requirement_id__in=ids)
        .values_list("requirement_id", "target", "department", "person_id")
    ):
        assignments[req_id].append(tuple(row))
    if not assignments:
        return {pk: [] for pk in ids}
    people_qs = people_active(org, today)
    if person_id is not None:
        people_qs = people_qs.filter(pk=person_id)
    if person_ids is not None:
        people_qs = people_qs.filter(pk__in=person_ids)
    people = list(people_qs.order_by("full_name", "pk").values(*_PERSON_FIELDS))
    last = {
        (row["requirement_id"], row["person_id"]): row["last"]
        for row in TrainingCompletion.objects.for_org(org)
        .filter(requirement_id__in=list(assignments), person_id__in=people_qs.values("pk"))
        .filter(completed_on__lte=today)  # as of ``today`` (a past day for a snapshot)
        .values("requirement_id", "person_id")
        .annotate(last=Max("completed_on"))
        .order_by()
    }
    result: dict[int, list[PersonStatus]] = {pk: [] for pk in ids}
    for req in requirements:
        rows = assignments.get(req.pk)
        if not rows:
            continue
        for p in people:
            if not covers(rows, p):
                continue
            done = last.get((req.pk, p["pk"]))
            due = due_date(req, p["start_date"], done)
            result[req.pk].append(
                PersonStatus(
                    person_id=p["pk"],
                    full_name=p["full_name"],
                    email=p["email"],
                    department=p["department"],
                    last_completed=done,
                    due_on=due,
                    overdue=due is not None and due < today,
                )
            )
    return result


def requirements_of(org: object) -> list[TrainingRequirement]:
    return list(TrainingRequirement.objects.for_org(org).order_by("title", "pk"))


def summaries(org: object, today: dt.date) -> list[RequirementSummary]:
    """Every requirement with "N of M current, K overdue", in four queries."""
    reqs = requirements_of(org)
    by_req = statuses(org, today, reqs)
    out = []
    for req in reqs:
        rows = by_req[req.pk]
        out.append(
            RequirementSummary(
                requirement=req,
                covered=len(rows),
                current=sum(1 for r in rows if r.current),
                overdue=sum(1 for r in rows if r.overdue),
            )
        )
    return out


def overdue_people_count(org: object, today: dt.date) -> int:
    """How many people are overdue on at least one requirement (four queries)."""
    by_req = statuses(org, today, requirements_of(org))
    return len({r.person_id for rows in by_req.values() for r in rows if r.overdue})


def get_requirement(org: object, pk: int) -> TrainingRequirement:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(TrainingRequirement.objects.for_org(org), pk=pk)


def assignments_of(req: TrainingRequirement) -> QuerySet[TrainingAssignment]:
    return (
        TrainingAssignment.objects.for_org(req.organization)
        .filter(requirement=req)
        .select_related("person")
    )


def recent_completions(req: TrainingRequirement, limit: int = 20) -> list[TrainingCompletion]:
    """The latest completions recorded for ``req`` (one query)."""
    return list(
        TrainingCompletion.objects.for_org(req.organization)
        .filter(requirement=req)
        .select_related("person")
        .order_by("-recorded_at", "-pk")[:limit]
    )
