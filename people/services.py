"""Write services of the roster: adding, changing, ending (a leaver) and deleting a person.

Rules (``people.rules`` holds the pure ones):
* managers (``Action.PEOPLE_MANAGE``: owners, admins, compliance managers and their keys) write;
* e-mail addresses are stored lower-case; a second person with the same address is refused;
* a manager is another person of the same organization, never the person or one of the people
  below them (no cycles); a linked member belongs to the same organization, is not an
  auditor, and is linked to one person at most;
* a leaver is *ended* (an end date, never before the start date), not deleted: their joiner
  and leaver records are what a Type 2 audit samples. Deleting is for an entry added by
  mistake, and refused while anything refers to the person (a report, acceptances, training,
  a checklist with something done), whatever app that reference comes from;
* adding a person, or changing their start or end date, opens or moves their joiner's and
  leaver's checklists in the same transaction (``people.checklists.checklists_sync``);
* an anonymised entry (``people.anonymise``) is closed: it cannot be changed, ended again or
  deleted.

Every change writes one activity entry in its transaction: the person's id and name, and the
changed fields before and after (their e-mail address included). The log already holds
members' addresses; a roster entry's are the same kind of data, and an auditor reading the
log needs to see whose record changed. (Anonymising a person later replaces the roster row's
name and address; the append-only log keeps what it recorded, under its own retention.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from people import rules
from people.checklists import checklists_drop_untouched, checklists_sync
from people.models import EmploymentType, Person
from soc2app.errors import Conflict, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import Membership, Role
from tenants.permissions import Action

FIELDS = (
    "full_name",
    "email",
    "title",
    "department",
    "manager_id",
    "employment_type",
    "start_date",
    "end_date",
    "membership_id",
)
EDITABLE = frozenset(
    {
        "full_name",
        "email",
        "title",
        "department",
        "manager",
        "employment_type",
        "start_date",
        "end_date",
        "member",
    }
)


def _fail(message: str | None, field: str) -> None:
    if message:
        raise ValidationFailed(message, field=field)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Trimmed, normalised values; a refusal names its field."""
    out = dict(values)
    for key, label, limit, required in (
        ("full_name", "full name", rules.NAME_MAX, True),
        ("title", "title", rules.TITLE_MAX, False),
        ("department", "department", rules.DEPARTMENT_MAX, False),
    ):
        if key in out:
            out[key] = str(out[key] or "").strip()
            _fail(rules.text_problem(out[key], label=label, limit=limit, required=required), key)
    if "email" in out:
        out["email"] = rules.normalise_email(out["email"])
        _fail(rules.email_problem(out["email"]), "email")
    if "employment_type" in out:
        out["employment_type"] = str(out["employment_type"] or EmploymentType.EMPLOYEE)
        _fail(rules.employment_type_problem(out["employment_type"]), "employment_type")
    for key in ("start_date", "end_date"):
        if key in out and out[key] is not None and not isinstance(out[key], dt.date):
            raise ValidationFailed("Give the date as YYYY-MM-DD.", field=key)
    return out


def _check_relations(org_id: int, person: Person) -> None:
    """The manager and the linked member, with the person's values as they will be saved."""
    if person.start_date is None:
        raise ValidationFailed("Give the start date.", field="start_date")
    _fail(rules.dates_problem(person.start_date, person.end_date), "end_date")
    manager = person.manager
    if manager is not None:
        if manager.organization_id != org_id:
            raise ValidationFailed(
                "Choose a manager from this organization's roster.", field="manager"
            )
        if person.pk is not None and manager.pk == person.pk:
            raise ValidationFailed("A person cannot be their own manager.", field="manager")
        if person.pk is not None:
            chain = dict(Person.objects.for_org(org_id).values_list("id", "manager_id"))
            chain[person.pk] = manager.pk
            if rules.cycle_from(chain, person.pk):
                raise ValidationFailed(
                    f"{manager.full_name} reports to {person.full_name} (directly or not): "
                    "choose someone above them.",
                    field="manager",
                )
    member = person.membership
    if member is not None:
        if member.organization_id != org_id or not member.is_active:
            raise ValidationFailed("Link a member of this organization.", field="member")
        if member.role == Role.AUDITOR:
            raise ValidationFailed("An auditor is not on the roster.", field="member")
        taken = Person.objects.for_org(org_id).filter(membership=member)
        if person.pk is not None:
            taken = taken.exclude(pk=person.pk)
        if taken.exists():
            raise ValidationFailed(
                "This member is linked to another person already.", field="member"
            )


def _duplicate(email: str) -> Conflict:
    return Conflict(
        f"{email} is on the roster already: open that person to change them.", code="duplicate"
    )


def _save(membership: Membership, person: Person, action: str, before: dict) -> Person:
    org = membership.organization
    after = snapshot(person, FIELDS)
    changes = diff(before, after)
    if not changes and person.pk is not None:
        return person
    if (
        person.pk is not None
        and Person.objects.for_org(org).filter(email=person.email).exclude(pk=person.pk).exists()
    ):
        raise _duplicate(person.email)
    try:
        with transaction.atomic():
            person.save()
            actor = Actor.for_principal(membership)
            activity_record(
                organization=org, actor=actor, action=action, target=person, changes=changes
            )
            # A joiner's or leaver's checklist opens (or follows the moved date).
            if action == "create" or {"start_date", "end_date"} & set(changes):
                checklists_sync(org, [person.pk], actor=actor)
    except IntegrityError as exc:  # the same address added concurrently
        raise _duplicate(person.email) from exc
    return person


def person_create(
    *,
    membership: Membership,
    full_name: str,
    email: str,
    start_date: dt.date,
    title: str = "",
    department: str = "",
    manager: Person | None = None,
    employment_type: str = EmploymentType.EMPLOYEE,
    end_date: dt.date | None = None,
    member: Membership | None = None,
) -> Person:
    permissions.require(membership, Action.PEOPLE_MANAGE)
    org = membership.organization
    values = _clean(
        {
            "full_name": full_name,
            "email": email,
            "title": title,
            "department": department,
            "employment_type": employment_type,
            "start_date": start_date,
            "end_date": end_date,
        }
    )
    if Person.objects.for_org(org).filter(email=values["email"]).exists():
        raise _duplicate(values["email"])
    person = Person(organization=org, manager=manager, membership=member, **values)
    _check_relations(org.pk, person)
    before = dict.fromkeys(FIELDS)
    return _save(membership, person, "create", before)


def _refuse_anonymised(person: Person) -> None:
    if person.anonymised_at is not None:
        raise ValidationFailed("This person was anonymised: their entry cannot change.")


def person_update(*, membership: Membership, person: Person, **changes: Any) -> Person:
    """Change any of ``EDITABLE`` (``manager`` a Person, ``member`` a Membership, or None)."""
    permissions.require(membership, Action.PEOPLE_MANAGE)
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    _refuse_anonymised(person)
    before = snapshot(person, FIELDS)
    values = _clean({k: v for k, v in changes.items() if k not in ("manager", "member")})
    for key, value in values.items():
        setattr(person, key, value)
    if "manager" in changes:
        person.manager = changes["manager"]
    if "member" in changes:
        person.membership = changes["member"]
    _check_relations(membership.organization_id, person)
    return _save(membership, person, "update", before)


def person_end(*, membership: Membership, person: Person, end_date: dt.date) -> Person:
    """A leaver: their last day. Ending again moves the date (a correction)."""
    permissions.require(membership, Action.PEOPLE_MANAGE)
    if not isinstance(end_date, dt.date):
        raise ValidationFailed("Give the last day as YYYY-MM-DD.", field="end_date")
    _refuse_anonymised(person)
    _fail(rules.dates_problem(person.start_date, end_date), "end_date")
    before = snapshot(person, FIELDS)
    person.end_date = end_date
    return _save(membership, person, "person.end", before)


def _references(person: Person) -> list[str]:
    """What refers to ``person``: one query per relation, for every app's relations (hidden
    ones too: ``related_name="+"``, which ``_meta.related_objects`` leaves out)."""
    found = []
    relations = [
        f
        for f in Person._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    ]
    for relation in relations:
        model = relation.related_model
        manager = model.objects
        rows = manager.for_org(person.organization_id) if hasattr(manager, "for_org") else manager
        if rows.filter(**{relation.field.name: person}).exists():
            found.append(str(model._meta.verbose_name_plural))
    return found


def person_delete(*, membership: Membership, person: Person) -> None:
    """Delete an entry added by mistake; refused once anything refers to the person."""
    permissions.require(membership, Action.PEOPLE_MANAGE)
    org = membership.organization
    with transaction.atomic():
        locked = Person.objects.for_org(org).select_for_update().filter(pk=person.pk).first()
        if locked is None:
            return
        # An anonymised leaver stays on the roster: their dates are still a population's.
        _refuse_anonymised(locked)
        # Checklists opened for the entry, nothing done on them, go with it.
        checklists_drop_untouched(org, locked)
        used = _references(locked)
        if used:
            raise Conflict(
                f"{locked.full_name} cannot be deleted: {', '.join(used)} refer to them. "
                "Record their end date instead (a leaver stays on the roster).",
                code="in_use",
            )
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="delete",
            target=locked,
            changes=diff(snapshot(locked, FIELDS), dict.fromkeys(FIELDS)),
        )
        locked.delete()
