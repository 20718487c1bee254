"""The roster's rules: addresses, dates, managers, linked members, leavers, deleting, and the
activity log."""

from __future__ import annotations

import datetime as dt

import pytest

from people import services
from people.models import Person
from soc2app.errors import Conflict, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry, Role
from tests.people.conftest import START

pytestmark = pytest.mark.django_db


def test_addresses_are_stored_lower_case_and_a_second_one_is_refused(org, add):
    ada = add("Ada Lovelace", email="  Ada@Example.COM ")
    assert ada.email == "ada@example.com"
    with pytest.raises(Conflict, match="ada@example.com is on the roster already"):
        add("Another Ada", email="ADA@example.com")
    bob = add("Bob")
    with pytest.raises(Conflict):
        services.person_update(membership=org_manager(org), person=bob, email="ADA@example.com")


def org_manager(org):
    from tenants.models import Membership

    return Membership.objects.for_org(org).filter(role=Role.COMPLIANCE_MANAGER).first()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"full_name": "  "}, "full_name"),
        ({"full_name": "=HYPERLINK(1)"}, "full_name"),
        ({"employment_type": "freelancer"}, "employment_type"),
        ({"end_date": START - dt.timedelta(days=1)}, "end_date"),
    ],
)
def test_bad_values_are_refused_naming_their_field(org, manager, values, field):
    base = {"full_name": "Ada", "email": "ada@example.com", "start_date": START}
    with pytest.raises(ValidationFailed) as caught:
        services.person_create(membership=manager, **(base | values))
    assert caught.value.field == field
    assert not Person.objects.for_org(org).exists()


def test_a_manager_is_of_the_same_organization_and_never_below_the_person(
    org, manager, add, outsider
):
    boss = add("Boss")
    lead = add("Lead", manager=boss)
    dev = add("Dev", manager=lead)
    with pytest.raises(ValidationFailed, match="own manager"):
        services.person_update(membership=manager, person=boss, manager=boss)
    with pytest.raises(ValidationFailed, match="reports to Boss"):
        services.person_update(membership=manager, person=boss, manager=dev)
    stranger = services.person_create(
        membership=outsider, full_name="Stranger", email="s@example.com", start_date=START
    )
    with pytest.raises(ValidationFailed, match="this organization"):
        services.person_update(membership=manager, person=dev, manager=stranger)
    services.person_update(membership=manager, person=dev, manager=boss)
    dev.refresh_from_db()
    assert dev.manager_id == boss.pk


def test_a_linked_member_is_of_this_organization_not_an_auditor_and_linked_once(
    org, manager, add, outsider, make_member
):
    with pytest.raises(ValidationFailed, match="member of this organization"):
        add("Ada", member=outsider)
    with pytest.raises(ValidationFailed, match="auditor"):
        add("Ada", member=make_member(org, Role.AUDITOR))
    add("Ada", member=manager)
    with pytest.raises(ValidationFailed, match="linked to another person"):
        add("Bob", member=manager)


def test_a_leaver_is_ended_never_before_the_start_and_logged(org, manager, add):
    ada = add("Ada")
    with pytest.raises(ValidationFailed, match="before the start date"):
        services.person_end(membership=manager, person=ada, end_date=START - dt.timedelta(days=1))
    services.person_end(membership=manager, person=ada, end_date=dt.date(2025, 6, 30))
    ada.refresh_from_db()
    assert ada.end_date == dt.date(2025, 6, 30)
    entry = ActivityEntry.objects.for_org(org).filter(action="person.end").get()
    assert entry.object_id == str(ada.pk) and entry.changes == {"end_date": [None, "2025-06-30"]}


def test_every_change_is_in_the_activity_log_and_no_change_writes_nothing(org, manager, add):
    ada = add("Ada", department="Engineering")
    services.person_update(membership=manager, person=ada, department="Research")
    services.person_update(membership=manager, person=ada, department="Research")
    entries = list(ActivityEntry.objects.for_org(org).filter(object_id=str(ada.pk)).order_by("pk"))
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].changes == {"department": ["Engineering", "Research"]}
    assert entries[0].changes["email"] == [None, "ada@example.com"]


def test_deleting_is_refused_while_anything_refers_to_the_person(org, manager, add):
    boss = add("Boss")
    add("Dev", manager=boss)
    with pytest.raises(Conflict, match="Record their end date instead"):
        services.person_delete(membership=manager, person=boss)
    mistake = add("Typo")
    services.person_delete(membership=manager, person=mistake)
    assert not Person.objects.for_org(org).filter(pk=mistake.pk).exists()
    assert ActivityEntry.objects.for_org(org).filter(action="delete").count() == 1


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_contributors_and_auditors_change_nothing(org, make_member, add, role):
    member = make_member(org, role)
    with pytest.raises(NotPermitted):
        add("Ada", membership=member)
    ada = add("Ada")
    with pytest.raises(NotPermitted):
        services.person_end(membership=member, person=ada, end_date=START)


def test_deleting_is_refused_once_another_app_refers_to_the_person(org, manager, add):
    from policies import services as policy_services
    from policies.models_acceptance import PolicyAssignment

    ada = add("Ada")
    policy = policy_services.policy_create(membership=manager, title="Conduct", body="Be kind.")
    PolicyAssignment.objects.create(organization=org, policy=policy, target="person", person=ada)
    with pytest.raises(Conflict, match="policy assignments refer to them"):
        services.person_delete(membership=manager, person=ada)
    assert Person.objects.for_org(org).filter(pk=ada.pk).exists()
