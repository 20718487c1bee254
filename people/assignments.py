"""Assigning something to people of the roster (a policy, a training requirement): to
everyone, a department or one person; and whom the assignments cover on a day.

Each app describes its assignments once (``Assigning``: the model, the field naming the owner
(the policy, the requirement), the noun of its messages, the permission) and says what follows
an assignment (queueing its links) through ``after``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from people.models import Person
from people.models_links import AssignmentBase, AssignmentTarget
from soc2app.errors import Conflict, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership
from tenants.permissions import Action

Row = tuple[str, str, int | None]  # (target, department, person id)


def people_active(org: object, day: dt.date) -> QuerySet[Person]:
    """People in the organization on ``day`` (started, not ended, not anonymised)."""
    return (
        Person.objects.for_org(org)
        .filter(start_date__lte=day, anonymised_at__isnull=True)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
    )


def assignment_rows(assignments: QuerySet) -> list[Row]:
    return list(assignments.values_list("target", "department", "person_id"))


def covered_q(rows: Iterable[Row]) -> Q:
    """The people ``rows`` cover, as a filter on Person."""
    rows = list(rows)
    if any(target == AssignmentTarget.EVERYONE for target, _d, _p in rows):
        return Q()
    match = Q(department__in=[d for t, d, _p in rows if t == AssignmentTarget.DEPARTMENT])
    return match | Q(pk__in=[p for t, _d, p in rows if t == AssignmentTarget.PERSON])


def covers(rows: Iterable[Row], person: dict) -> bool:
    """Whether ``rows`` cover ``person`` (a dict with ``pk`` and ``department``)."""
    for target, department, person_id in rows:
        if target == AssignmentTarget.EVERYONE:
            return True
        if target == AssignmentTarget.DEPARTMENT and department == person["department"]:
            return True
        if target == AssignmentTarget.PERSON and person_id == person["pk"]:
            return True
    return False


def covered_people(org: object, assignments: QuerySet, day: dt.date | None = None):
    """People ``assignments`` cover who are in the organization on ``day`` (two queries)."""
    rows = assignment_rows(assignments)
    if not rows:
        return Person.objects.for_org(org).none()
    return people_active(org, day or timezone.localdate()).filter(covered_q(rows))


def assignment_label(assignment: AssignmentBase) -> str:
    if assignment.target == AssignmentTarget.EVERYONE:
        return "everyone"
    if assignment.target == AssignmentTarget.DEPARTMENT:
        return f"department {assignment.department}"
    return f"person {assignment.person_id}"


@dataclass(frozen=True)
class Assigning:
    """How one app assigns its owners (a policy, a requirement): the assignment model, its
    field naming the owner, the noun its messages use and the permission it takes."""

    model: type[AssignmentBase]
    owner_field: str
    noun: str
    action: Action

    def add(
        self,
        membership: Membership,
        owner: Model,
        target: str,
        department: str = "",
        person: Person | None = None,
        after: Callable[[], None] | None = None,
    ) -> AssignmentBase:
        """Assign ``owner``; ``after`` runs in the same transaction (e.g. queue the links on
        commit)."""
        permissions.require(membership, self.action)
        org = membership.organization
        department = (department or "").strip()
        if target not in AssignmentTarget.values:
            raise ValidationFailed(f"Assign the {self.noun} to everyone, a department or a person.")
        if target == AssignmentTarget.DEPARTMENT:
            if not department or len(department) > 120:
                raise ValidationFailed("Choose a department.", field="department")
            if not Person.objects.for_org(org).filter(department=department).exists():
                raise ValidationFailed(
                    "Nobody in the roster works in that department.", field="department"
                )
        else:
            department = ""
        if target == AssignmentTarget.PERSON:
            if person is None or person.organization_id != org.pk:
                raise ValidationFailed("Choose a person from the roster.", field="person")
        else:
            person = None
        actor = Actor.for_principal(membership)
        try:
            with transaction.atomic():
                assignment = self.model.objects.create(
                    organization=org,
                    target=target,
                    department=department,
                    person=person,
                    created_by_label=actor.label[:200],
                    **{self.owner_field: owner},
                )
                activity_record(
                    organization=org,
                    actor=actor,
                    action="assign",
                    target=owner,
                    changes={"assigned_to": [None, assignment_label(assignment)]},
                )
                if after is not None:
                    after()
        except IntegrityError as exc:
            raise Conflict(f"The {self.noun} is assigned so already.") from exc
        return assignment

    def remove(self, membership: Membership, assignment: AssignmentBase) -> None:
        """Stops asking; what was recorded stays."""
        permissions.require(membership, self.action)
        with transaction.atomic():
            activity_record(
                organization=membership.organization,
                actor=Actor.for_principal(membership),
                action="unassign",
                target=getattr(assignment, self.owner_field),
                changes={"assigned_to": [assignment_label(assignment), None]},
            )
            assignment.delete()
