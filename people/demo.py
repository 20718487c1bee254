"""The demo roster for ``seed_demo``: twelve people in four departments with their managers,
two joiners in the last three months, one leaver last month, and the demo members (owner,
compliance manager, contributor) linked to their entries. Their checklists: the leaver's
offboarding done, its first item with a control done two days late (an exception in the demo
Type 2 audit); the earlier joiner's onboarding done on time; the recent joiner's partly done. Written through the services (so
the activity log has it); idempotent: nothing happens when the roster has anyone."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.utils import timezone

from people import services
from people.checklist_items import checklist_item_done
from people.models import ChecklistItem, Person
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
    doer = members.get(Role.COMPLIANCE_MANAGER) or actor
    _complete(doer, people[LEAVER], "offboarding", late=1)
    _complete(doer, people["Sam Rivera"], "onboarding")
    _complete(doer, people["Chloé Martin"], "onboarding", keep_open=1)


def _complete(
    membership: Membership, person: Person, kind: str, *, late: int = 0, keep_open: int = 0
) -> None:
    """Mark ``person``'s checklist done on the items' due dates, the first ``late`` items
    with a control two days late, the last ``keep_open`` items left open."""
    today = timezone.localdate()
    items = list(
        ChecklistItem.objects.for_org(membership.organization)
        .filter(checklist__person=person, checklist__kind=kind)
        .select_related("checklist__person", "checklist__organization", "control")
        .order_by("position")
    )
    to_do = items[: len(items) - keep_open]
    late_ones = {i.pk for i in [i for i in to_do if i.control_id][:late]}
    for item in to_do:
        day = item.due_date + dt.timedelta(days=2 if item.pk in late_ones else 0)
        if day > today or (item.evidence_required and item.control_id is None):
            continue
        proof = None
        if item.evidence_required:
            text = f"{item.title}: {person.full_name}, {day.isoformat()}\n"
            proof = ContentFile(text.encode(), name=f"checklist-{item.pk}.txt")
        checklist_item_done(
            membership=membership,
            item=item,
            done_on=day,
            note="Recorded for the demo",
            evidence_file=proof,
            today=today,
        )
