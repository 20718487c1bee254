"""The demo roster for ``seed_demo``: twelve people in four departments with their managers,
two joiners in the last three months, one leaver last month, and the demo members (owner,
compliance manager, contributor) linked to their entries. Their checklists: the leaver's
offboarding done, its first item with a control done two days late (an exception in the demo
Type 2 audit); the earlier joiner's onboarding done on time; the recent joiner's partly done. Written through the services (so
the activity log has it); idempotent: nothing happens when the roster has anyone."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone

from evidence.models import EvidenceVersion
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
    doer = members.get(Role.COMPLIANCE_MANAGER) or actor
    _leaver_control(doer, owner=members.get(Role.CONTRIBUTOR))
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
    late_left = late
    for item in items[: len(items) - keep_open]:
        # The control's own demo evidence stands for the step, else a small file.
        proof = upload = None
        if item.evidence_required:
            if item.control_id is None:
                continue
            proof = (
                EvidenceVersion.objects.for_org(membership.organization)
                .filter(item__control_id=item.control_id, item__system_key="")
                .order_by("-pk")
                .values_list("pk", flat=True)
                .first()
            )
            if proof is None:
                text = f"{item.title}: {person.full_name}\n"
                upload = ContentFile(text.encode(), name=f"{kind}-{item.position + 1}.txt")
        is_late = bool(late_left and item.control_id)
        late_left -= is_late
        day = item.due_date + dt.timedelta(days=2 if is_late else 0)
        if day > today:
            continue
        checklist_item_done(
            membership=membership,
            item=item,
            done_on=day,
            note="Recorded for the demo",
            evidence_version_id=proof,
            evidence_file=upload,
            today=today,
        )


def _leaver_control(manager: Membership, *, owner: Membership | None) -> None:
    """The demo's controls leave "Access removed promptly at termination" (IAM-05) in the
    library; the leaver's offboarding evidences it, so the demo adopts it first."""
    from controls.models import Control, ControlTemplate
    from controls.services import controls_adopt

    org = manager.organization
    if Control.objects.for_org(org).filter(Q(code="IAM-05") | Q(template__code="IAM-05")).exists():
        return
    template = ControlTemplate.objects.filter(code="IAM-05").order_by("pk").first()
    if template is not None:
        controls_adopt(membership=manager, templates=[template], owner=owner)
