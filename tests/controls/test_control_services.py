"""Write services for controls and systems: permissions, field-level messages, activity log."""

from __future__ import annotations

import datetime as dt

import pytest

from controls.models import Control, ControlCriterion, ControlTemplate, System
from controls.services import (
    control_create,
    control_delete,
    control_set_criteria,
    control_update,
    controls_adopt,
    controls_bulk_update,
)
from controls.systems import system_save
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry, Role
from tests.factories import ControlFactory, SystemFactory, control_map, evidence_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def contributor(org, make_member):
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def auditor(org, make_member):
    return make_member(org, Role.AUDITOR)


def entries(org, **filters) -> list[ActivityEntry]:
    return list(ActivityEntry.objects.for_org(org).filter(**filters).order_by("id"))


def refs(control) -> list[str]:
    return sorted(
        ControlCriterion.objects.for_org(control.organization_id)
        .filter(control=control)
        .values_list("criterion__ref", flat=True)
    )


def create(membership, **overrides) -> Control:
    values = {
        "code": "ac-1",
        "title": "Quarterly access review",
        "control_type": "procedural",
        "frequency": "quarterly",
    }
    return control_create(membership=membership, **{**values, **overrides})


# --- create and adopt -----------------------------------------------------------------------


def test_create_maps_criteria_and_logs_the_change(org, manager, contributor):
    control = create(
        manager, criteria=["cc6.1", " CC6.2 ", "CC6.1"], owner=contributor.pk, description=" x "
    )

    control.refresh_from_db()
    assert (control.code, control.owner, control.description) == ("AC-1", contributor, "x")
    assert control.status == "not_started"
    assert refs(control) == ["CC6.1", "CC6.2"]
    [entry] = entries(org)
    assert (entry.action, entry.object_type, entry.object_id) == (
        "create",
        "controls.control",
        str(control.pk),
    )
    assert entry.actor_id == manager.user_id
    assert entry.changes["criteria"] == [None, ["CC6.1", "CC6.2"]]
    assert entry.changes["owner"] == [None, contributor.pk]
    assert entry.changes["code"] == [None, "AC-1"]


def test_a_code_clash_is_refused_on_the_code_field(org, other_org, manager, outsider):
    create(manager)

    with pytest.raises(ValidationFailed) as err:
        create(manager, code="AC-1 ".lower(), title="Another")

    assert (err.value.field, err.value.message) == (
        "code",
        "Another control already uses the code AC-1.",
    )
    assert Control.objects.for_org(org).count() == 1
    assert len(entries(org)) == 1
    create(outsider)  # the same code in another organization is fine
    assert Control.objects.for_org(other_org).count() == 1


def test_an_owner_from_another_organization_is_refused(org, manager, outsider):
    for owner in (outsider, outsider.pk, str(outsider.pk), "nobody"):
        with pytest.raises(ValidationFailed) as err:
            create(manager, owner=owner)
        assert err.value.field == "owner"
        assert err.value.message == "Choose an owner from this organization."
    assert not Control.objects.for_org(org).exists()
    assert entries(org) == []


def test_unknown_criteria_are_refused_and_named(org, manager):
    with pytest.raises(ValidationFailed) as err:
        create(manager, criteria=["CC6.1", "CC9.9"])
    assert err.value.field == "criteria"
    assert err.value.message == "CC9.9 is not in the catalog (AICPA Trust Services Criteria)."

    with pytest.raises(ValidationFailed) as err:
        create(manager, criteria=["CC6.1", "cc9.9", "XX1"])
    assert err.value.message.startswith("CC9.9, XX1 are not in the catalog")
    assert not Control.objects.for_org(org).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "has space", "Use 1 to 20 letters, digits"),
        ("code", "", "Use 1 to 20 letters, digits"),
        ("title", "  ", "Give the control a title."),
        ("control_type", "magic", "Choose a control type."),
        ("frequency", "hourly", "Choose a frequency."),
        ("status", "done", "Choose a status."),
    ],
)
def test_bad_fields_are_refused_with_their_field(org, manager, field, value, message):
    with pytest.raises(ValidationFailed) as err:
        create(manager, **{field: value})
    assert err.value.field == field
    assert err.value.message.startswith(message)


def test_adopting_twice_creates_nothing_twice(org, manager, contributor, catalog):
    templates = list(
        ControlTemplate.objects.filter(library__framework=catalog).order_by("position")[:3]
    )
    ControlFactory(organization=org, code=templates[2].code, title="Our own")

    first = controls_adopt(membership=manager, templates=templates, owner=contributor)

    assert [c.code for c in first.adopted] == [templates[0].code, templates[1].code]
    assert first.skipped == [templates[2].code]
    adopted = first.adopted[0]
    adopted.refresh_from_db()
    assert adopted.template == templates[0]
    assert adopted.owner == contributor
    assert adopted.evidence_guidance == templates[0].evidence_guidance
    assert refs(adopted) == sorted(c.ref for c in templates[0].criteria.all())
    assert len(entries(org, action="create")) == 2

    again = controls_adopt(membership=manager, templates=templates)

    assert again.adopted == []
    assert again.skipped == [t.code for t in templates]
    assert Control.objects.for_org(org).count() == 3
    assert len(entries(org)) == 2


# --- update ---------------------------------------------------------------------------------


def test_manager_updates_any_field_and_the_change_is_logged(org, manager, contributor):
    control = create(manager)

    control_update(
        membership=manager,
        control=control,
        title="Monthly access review",
        frequency="monthly",
        owner=contributor,
        due_date=dt.date(2025, 6, 30),
    )

    control.refresh_from_db()
    assert (control.title, control.frequency, control.owner) == (
        "Monthly access review",
        "monthly",
        contributor,
    )
    entry = entries(org, action="update")[-1]
    assert entry.changes == {
        "due_date": [None, "2025-06-30"],
        "frequency": ["quarterly", "monthly"],
        "owner": [None, contributor.pk],
        "title": ["Quarterly access review", "Monthly access review"],
    }
    control_update(membership=manager, control=control, title="Monthly access review")
    assert len(entries(org, action="update")) == 1  # nothing changed, nothing logged


def test_contributor_changes_status_and_description_of_own_controls_only(
    org, manager, contributor, make_member
):
    own = create(manager, owner=contributor)
    someone_elses = create(manager, code="AC-2", owner=make_member(org, Role.CONTRIBUTOR))
    unowned = create(manager, code="AC-3")

    control_update(
        membership=contributor, control=own, status="in_progress", description="Started in May."
    )
    own.refresh_from_db()
    assert (own.status, own.description) == ("in_progress", "Started in May.")
    assert entries(org, action="update")[-1].actor_id == contributor.user_id

    for control in (someone_elses, unowned):
        with pytest.raises(NotPermitted):
            control_update(membership=contributor, control=control, status="in_progress")
    for field, value in [("title", "Mine now"), ("owner", None), ("frequency", "annual")]:
        with pytest.raises(NotPermitted) as err:
            control_update(membership=contributor, control=own, **{field: value})
        assert err.value.field == field
    with pytest.raises(NotPermitted):
        create(contributor, code="AC-9")
    with pytest.raises(NotPermitted):
        control_set_criteria(membership=contributor, control=own, refs=["CC6.1"])
    own.refresh_from_db()
    assert (own.title, own.owner, own.frequency) == (
        "Quarterly access review",
        contributor,
        "quarterly",
    )
    assert len(entries(org, action="update")) == 1


def test_auditor_writes_nothing(org, manager, auditor, catalog):
    control = create(manager, owner=auditor)  # even a control they were made owner of
    system = SystemFactory(organization=org)
    before = len(entries(org))
    attempts = [
        lambda: create(auditor, code="AC-9"),
        lambda: control_update(membership=auditor, control=control, status="in_progress"),
        lambda: control_set_criteria(membership=auditor, control=control, refs=["CC6.1"]),
        lambda: controls_bulk_update(membership=auditor, controls=[control], status="implemented"),
        lambda: controls_adopt(
            membership=auditor, templates=ControlTemplate.objects.filter(library__framework=catalog)
        ),
        lambda: control_delete(membership=auditor, control=control),
        lambda: system_save(membership=auditor, name="Prod"),
        lambda: system_save(membership=auditor, system=system, name="Renamed"),
    ]
    for attempt in attempts:
        with pytest.raises(NotPermitted):
            attempt()
    assert Control.objects.for_org(org).count() == 1
    assert len(entries(org)) == before


def test_not_applicable_needs_a_justification(org, manager, contributor):
    control = create(manager, owner=contributor)

    with pytest.raises(ValidationFailed) as err:
        control_update(membership=manager, control=control, status="not_applicable")
    assert err.value.field == "na_justification"
    assert control.status == "not_started"  # the refused change left the object alone
    with pytest.raises(ValidationFailed):
        control_update(
            membership=manager, control=control, status="not_applicable", na_justification="  "
        )
    with pytest.raises(ValidationFailed):
        create(manager, code="AC-2", status="not_applicable")

    control_update(
        membership=contributor,
        control=control,
        status="not_applicable",
        na_justification="We run no physical offices.",
    )
    control.refresh_from_db()
    assert (control.status, control.na_justification) == (
        "not_applicable",
        "We run no physical offices.",
    )


def test_changing_to_a_taken_code_is_refused_and_leaves_the_control_alone(org, manager):
    create(manager)
    second = create(manager, code="AC-2")

    with pytest.raises(ValidationFailed) as err:
        control_update(membership=manager, control=second, code="ac-1", title="Renamed")

    assert err.value.field == "code"
    assert (second.code, second.title) == ("AC-2", "Quarterly access review")
    second.refresh_from_db()
    assert second.code == "AC-2"
    with pytest.raises(ValidationFailed, match="Unknown field"):
        control_update(membership=manager, control=second, colour="red")


def test_another_organizations_control_is_not_found(org, manager, outsider):
    theirs = create(outsider)
    with pytest.raises(NotFound):
        control_update(membership=manager, control=theirs, status="implemented")
    with pytest.raises(NotFound):
        control_set_criteria(membership=manager, control=theirs, refs=[])
    with pytest.raises(NotFound):
        control_delete(membership=manager, control=theirs)
    assert entries(org) == []


def test_bulk_update_sets_owner_and_status(org, manager, contributor):
    controls = [create(manager, code=f"AC-{i}") for i in range(1, 4)]
    controls_bulk_update(membership=manager, controls=controls[:1], status="in_progress")

    changed = controls_bulk_update(membership=manager, controls=controls, status="in_progress")
    assert changed == 2

    changed = controls_bulk_update(membership=manager, controls=controls, owner=contributor.pk)
    assert changed == 3
    assert {c.owner_id for c in Control.objects.for_org(org)} == {contributor.pk}
    assert len(entries(org, action="update")) == 1 + 2 + 3

    with pytest.raises(ValidationFailed) as err:
        controls_bulk_update(membership=manager, controls=controls, status="not_applicable")
    assert err.value.field == "status"
    with pytest.raises(ValidationFailed, match="Choose an owner or a status"):
        controls_bulk_update(membership=manager, controls=controls)
    with pytest.raises(NotPermitted):
        controls_bulk_update(membership=contributor, controls=controls, status="implemented")


def test_set_criteria_replaces_the_mapping(org, manager):
    control = create(manager, criteria=["CC6.1", "CC6.2"])

    control_set_criteria(membership=manager, control=control, refs=["CC6.2", "CC7.1"])

    assert refs(control) == ["CC6.2", "CC7.1"]
    assert entries(org, action="update")[-1].changes == {
        "criteria": [["CC6.1", "CC6.2"], ["CC6.2", "CC7.1"]]
    }
    control_set_criteria(membership=manager, control=control, refs=["cc7.1", "CC6.2"])
    assert len(entries(org, action="update")) == 1
    with pytest.raises(ValidationFailed, match="A9.9 is not in the catalog"):
        control_set_criteria(membership=manager, control=control, refs=["A9.9"])
    assert refs(control) == ["CC6.2", "CC7.1"]


def test_delete_only_without_evidence(org, manager):
    kept = control_map(create(manager), "CC6.1")
    evidence_row(kept, dt.date(2025, 1, 1))
    gone = create(manager, code="AC-2", criteria=["CC6.1"])

    with pytest.raises(ValidationFailed, match="mark it not applicable"):
        control_delete(membership=manager, control=kept)
    control_delete(membership=manager, control=gone)

    assert list(Control.objects.for_org(org).values_list("code", flat=True)) == ["AC-1"]
    assert entries(org, action="delete")[0].changes == {"code": ["AC-2", None]}


# --- systems --------------------------------------------------------------------------------


def test_system_save_creates_updates_and_refuses_duplicates(org, manager, contributor, outsider):
    system = system_save(
        membership=manager, name=" Production ", owner=contributor, components=["api", " ", "db"]
    )
    assert (system.name, system.components) == ("Production", ["api", "db"])
    assert entries(org, action="create")[0].changes["name"] == [None, "Production"]

    system_save(
        membership=manager,
        system=system,
        name="Production",
        owner=contributor,
        components=["api", "db"],
    )
    assert entries(org, action="update") == []  # nothing changed

    with pytest.raises(ValidationFailed) as err:
        system_save(membership=manager, name="Production")
    assert (err.value.field, err.value.message) == (
        "name",
        "A system named “Production” already exists.",
    )
    with pytest.raises(ValidationFailed) as err:
        system_save(membership=manager, name="Staging", owner=outsider)
    assert err.value.field == "owner"
    with pytest.raises(NotPermitted):
        system_save(membership=contributor, name="Staging")
    assert System.objects.for_org(org).count() == 1
