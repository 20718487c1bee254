"""Reads of the roster: the filtered list, one person, departments, and the joiners and
leavers of a period (the Type 2 populations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from people.models import Person
from soc2app.errors import NotFound
from tenants.models import Organization


class State:
    ANY = ""
    ACTIVE = "active"
    JOINERS = "joiners"
    LEAVERS = "leavers"
    CHOICES = (
        (ANY, "Everyone"),
        (ACTIVE, "Active today"),
        (JOINERS, "Joiners (start date in the range)"),
        (LEAVERS, "Leavers (end date in the range)"),
    )


@dataclass(frozen=True)
class RosterFilter:
    q: str = ""
    department: str = ""
    employment_type: str = ""
    state: str = State.ANY
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _in_range(field: str, start: dt.date | None, end: dt.date | None) -> Q:
    condition = Q(**{f"{field}__isnull": False})
    if start is not None:
        condition &= Q(**{f"{field}__gte": start})
    if end is not None:
        condition &= Q(**{f"{field}__lte": end})
    return condition


def active_on(day: dt.date) -> Q:
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))


def people_list(
    org: Organization | int, filters: RosterFilter | None = None, *, today: dt.date | None = None
) -> QuerySet[Person]:
    """The roster, filtered, with each person's manager (one query per page)."""
    f = filters or RosterFilter()
    rows = Person.objects.for_org(org).select_related("manager")
    if f.q:
        rows = rows.filter(Q(full_name__icontains=f.q) | Q(email__icontains=f.q.lower()))
    if f.department:
        rows = rows.filter(department=f.department)
    if f.employment_type:
        rows = rows.filter(employment_type=f.employment_type)
    if f.state == State.ACTIVE:
        rows = rows.filter(active_on(today or timezone.localdate()))
    elif f.state == State.JOINERS:
        rows = rows.filter(_in_range("start_date", f.date_from, f.date_to))
    elif f.state == State.LEAVERS:
        rows = rows.filter(_in_range("end_date", f.date_from, f.date_to))
    return rows.order_by("full_name", "id")


def person_get(org: Organization | int, pk: object) -> Person:
    """One person of the organization; another organization's is "not found" alike."""
    text = str(pk)
    found = None
    if text.isascii() and text.isdigit() and len(text) < 19:
        found = (
            Person.objects.for_org(org)
            .select_related("manager", "membership__user")
            .filter(pk=int(text))
            .first()
        )
    if found is None:
        raise NotFound("No such person.")
    return found


def people_by_id(org: Organization | int, ids: list[int]) -> dict[int, Person]:
    return {p.pk: p for p in Person.objects.for_org(org).filter(pk__in=ids)}


def direct_reports(person: Person) -> list[Person]:
    return list(Person.objects.for_org(person.organization_id).filter(manager=person))


def departments(org: Organization | int) -> list[str]:
    return list(
        Person.objects.for_org(org)
        .exclude(department="")
        .order_by("department")
        .values_list("department", flat=True)
        .distinct()
    )


def person_by_email(org: Organization | int, email: str) -> Person | None:
    """The person (not anonymised) with this e-mail, case-insensitive; None when nobody."""
    return (
        Person.objects.for_org(org)
        .filter(email__iexact=email.strip(), anonymised_at__isnull=True)
        .order_by("id")
        .first()
    )


SUGGESTIONS = 10


def people_suggestions(org: Organization | int, text: str) -> list[Person]:
    """Up to ``SUGGESTIONS`` people (not anonymised) whose e-mail or name starts with
    ``text`` (or one of whose name's words does): the assign forms' suggestions. One query."""
    text = text.strip()[:100]
    if len(text) < 2:
        return []
    match = (
        Q(email__istartswith=text)
        | Q(full_name__istartswith=text)
        | Q(full_name__icontains=f" {text}")
    )
    return list(
        Person.objects.for_org(org)
        .filter(match, anonymised_at__isnull=True)
        .order_by("full_name", "id")
        .only("full_name", "email")[:SUGGESTIONS]
    )


def joiners(org: Organization | int, start: dt.date, end: dt.date) -> QuerySet[Person]:
    """People whose start date falls in [start, end], by start date."""
    return (
        Person.objects.for_org(org)
        .filter(start_date__gte=start, start_date__lte=end)
        .order_by("start_date", "id")
    )


def leavers(org: Organization | int, start: dt.date, end: dt.date) -> QuerySet[Person]:
    """People whose end date falls in [start, end], by end date."""
    return (
        Person.objects.for_org(org)
        .filter(end_date__gte=start, end_date__lte=end)
        .order_by("end_date", "id")
    )
