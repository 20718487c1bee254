"""Reads of assignments and acceptances (managers only: they name people)."""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from people.models import Person
from policies.acceptance import covered_people
from policies.models import (
    Acceptance,
    AcceptanceLink,
    Policy,
    PolicyAssignment,
    PolicyVersion,
    VersionState,
)


def assignments_of(policy: Policy) -> QuerySet[PolicyAssignment]:
    return (
        PolicyAssignment.objects.for_org(policy.organization)
        .filter(policy=policy)
        .select_related("person")
    )


def acceptance_rows(policy: Policy, version: PolicyVersion | None) -> QuerySet[Person]:
    """People the policy covers today, each with their acceptance of ``version`` (time, IP,
    channel, text hash) and when their link was sent, in one query."""
    people = covered_people(policy).order_by("full_name", "pk")
    if version is None:
        return people
    org = policy.organization
    accepted = Acceptance.objects.for_org(org).filter(version=version, person=OuterRef("pk"))
    sent = AcceptanceLink.objects.for_org(org).filter(version=version, person=OuterRef("pk"))
    return people.annotate(
        accepted_at=Subquery(accepted.values("accepted_at")[:1]),
        accepted_ip=Subquery(accepted.values("ip_address")[:1]),
        accepted_channel=Subquery(accepted.values("channel")[:1]),
        accepted_sha256=Subquery(accepted.values("text_sha256")[:1]),
        link_sent_at=Subquery(sent.values("sent_at")[:1]),
    )


def acceptance_counts(
    policy: Policy, version: PolicyVersion | None, day: dt.date | None = None
) -> tuple[int, int]:
    """(people covered, of whom accepted ``version``): today, or as of the end of ``day``
    (acceptances recorded by then, people in the organization that day). Three queries."""
    people = covered_people(policy, day)
    if version is None:
        return people.count(), 0
    accepted = Acceptance.objects.for_org(policy.organization).filter(
        version=version, person__in=people
    )
    if day is not None:
        accepted = accepted.filter(accepted_at__lt=day_end(day))
    return people.count(), accepted.count()


def day_end(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` in the current time zone."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


def departments(org: object) -> list[str]:
    return list(
        Person.objects.for_org(org)
        .exclude(department="")
        .values_list("department", flat=True)
        .distinct()
        .order_by("department")
    )


def pending_for(person: Person, day) -> list[Policy]:
    """Policies assigned to ``person`` whose current version they have not accepted (each
    with ``current_version_id``, ``current_number``), in three queries."""
    if not person.is_active_on(day) or person.anonymised_at:
        return []
    org = person.organization_id
    assigned = (
        PolicyAssignment.objects.for_org(org)
        .filter(
            Q(target="everyone")
            | Q(target="department", department=person.department)
            | Q(target="person", person=person)
        )
        .values("policy_id")
    )
    latest = (
        PolicyVersion.objects.for_org(org)
        .filter(policy=OuterRef("pk"), state=VersionState.APPROVED)
        .order_by("-number")
    )
    policies = list(
        Policy.objects.for_org(org)
        .filter(pk__in=assigned)
        .annotate(
            current_version_id=Subquery(latest.values("pk")[:1]),
            current_number=Subquery(latest.values("number")[:1]),
        )
        .filter(current_version_id__isnull=False)
        .order_by("title")
    )
    accepted = set(
        Acceptance.objects.for_org(org)
        .filter(person=person, version_id__in=[p.current_version_id for p in policies])
        .values_list("version_id", flat=True)
    )
    return [p for p in policies if p.current_version_id not in accepted]
