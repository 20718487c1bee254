"""The demo roster for ``seed_demo``: twelve people in four departments with their managers,
two joiners in the last three months, one leaver last month, and the demo members (owner,
compliance manager, contributor) linked to their entries. Written through the services (so
the activity log has it); idempotent: nothing happens when the roster has anyone."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from people import services
from people.models import Person
from tenants.models import Membership, Organization, Role

# name, title, department, manager (by name), type, start (a date, or days ago), member role
ROSTER = (
    (
        "Maya Chen",
        "Chief Executive Officer",
        "Operations",
        None,
        "employee",
        dt.date(2019, 3, 1),
        Role.OWNER,
    ),
    (
        "Priya Nair",
        "Compliance Manager",
        "Operations",
        "Maya Chen",
        "employee",
        dt.date(2020, 2, 3),
        Role.COMPLIANCE_MANAGER,
    ),
    (
        "Daniel Okafor",
        "Head of Engineering",
        "Engineering",
        "Maya Chen",
        "employee",
        dt.date(2019, 6, 3),
        None,
    ),
    (
        "Tom Becker",
        "Software Engineer",
        "Engineering",
        "Daniel Okafor",
        "employee",
        dt.date(2021, 4, 12),
        Role.CONTRIBUTOR,
    ),
    (
        "Lena Fischer",
        "Site Reliability Engineer",
        "Engineering",
        "Daniel Okafor",
        "employee",
        dt.date(2021, 9, 1),
        None,
    ),
    ("Sam Rivera", "Software Engineer", "Engineering", "Daniel Okafor", "employee", 75, None),
    ("Aisha Khan", "Head of Sales", "Sales", "Maya Chen", "employee", dt.date(2020, 5, 4), None),
    (
        "Jonas Berg",
        "Account Executive",
        "Sales",
        "Aisha Khan",
        "employee",
        dt.date(2022, 1, 10),
        None,
    ),
    ("Chloé Martin", "Sales Development Intern", "Sales", "Aisha Khan", "intern", 20, None),
    ("Grace Liu", "People Partner", "People", "Maya Chen", "employee", dt.date(2020, 9, 14), None),
    ("Omar Haddad", "Recruiter", "People", "Grace Liu", "contractor", dt.date(2023, 3, 6), None),
    (
        "Elena Petrova",
        "Support Engineer",
        "Operations",
        "Priya Nair",
        "employee",
        dt.date(2022, 6, 1),
        None,
    ),
)
LEAVER = "Elena Petrova"


def _members(organization: Organization) -> dict[str, Membership]:
    found: dict[str, Membership] = {}
    rows = (
        Membership.objects.for_org(organization)
        .select_related("user", "organization")
        .order_by("pk")
    )
    for member in rows:
        found.setdefault(member.role, member)
    return found


def demo_seed_people(organization: Organization) -> None:
    if Person.objects.for_org(organization).exists():
        return
    members = _members(organization)
    actor = members.get(Role.OWNER) or members.get(Role.ADMIN)
    if actor is None:
        return
    domain = actor.user.email.rpartition("@")[2] or "example.com"
    today = timezone.localdate()
    people: dict[str, Person] = {}
    for name, title, department, manager, kind, start, role in ROSTER:
        member = members.get(role) if role else None
        first, _, last = name.lower().replace("é", "e").partition(" ")
        people[name] = services.person_create(
            membership=actor,
            full_name=name,
            email=member.user.email if member else f"{first}.{last}@{domain}",
            title=title,
            department=department,
            manager=people.get(manager) if manager else None,
            employment_type=kind,
            start_date=today - dt.timedelta(days=start) if isinstance(start, int) else start,
            member=member,
        )
    last_month = today.replace(day=1) - dt.timedelta(days=1)  # the last day of last month
    services.person_end(
        membership=actor,
        person=people[LEAVER],
        end_date=last_month.replace(day=min(14, last_month.day)),
    )
