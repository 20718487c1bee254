"""Deviations: recorded by managers with the management response, in the activity log, and
shown in the readiness exceptions list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from controls.deviations import deviation_delete, deviation_get_for, deviation_record
from controls.models import Deviation
from controls.readiness import ExceptionKind, audit_readiness
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry, Role
from tests.factories import ControlFactory, control_map, evidence_row

D = dt.date
pytestmark = pytest.mark.django_db
WINDOW = (D(2025, 1, 1), D(2025, 12, 31))
RESPONSE = {
    "what_happened": "The Q2 review was not performed.",
    "cause": "The reviewer left and the task was not reassigned.",
    "remediation": "Review performed late; the task now has a deputy.",
    "remediation_date": D(2025, 7, 15),
}


@pytest.fixture
def control(org):
    control = ControlFactory(
        organization=org, code="UAR-1", created_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    )
    return control_map(control, "CC6.2")


Q2 = (D(2025, 4, 1), D(2025, 6, 30))


def record(membership, control, start=Q2[0], end=Q2[1], **changes):
    return deviation_record(
        membership=membership,
        control=control,
        period_start=start,
        period_end=end,
        **{**RESPONSE, **changes},
    )


def test_a_recorded_deviation_appears_with_its_missing_period(org, manager, control, make_audit):
    audit = make_audit(org, window=WINDOW)
    for day in (D(2025, 3, 31), D(2025, 9, 30), D(2025, 12, 31)):
        evidence_row(control, day)

    deviation = record(manager, control)
    readiness = audit_readiness(audit, today=D(2026, 1, 10))

    (exception,) = readiness.exceptions
    assert exception.kind == ExceptionKind.MISSING
    assert exception.period.label == "01 Apr 2025 – 30 Jun 2025"
    assert exception.deviation == deviation
    assert exception.deviation.remediation.startswith("Review performed late")
    entry = ActivityEntry.objects.for_org(org).get(object_type="controls.deviation")
    assert entry.action == "create" and entry.actor_id == manager.user_id
    assert entry.changes["what_happened"] == [None, RESPONSE["what_happened"]]


def test_a_deviation_on_a_covered_period_is_an_exception_of_its_own(
    org, manager, control, make_audit
):
    audit = make_audit(org, window=WINDOW)
    for day in (D(2025, 3, 31), D(2025, 6, 30), D(2025, 9, 30), D(2025, 12, 31)):
        evidence_row(control, day)
    record(manager, control, D(2025, 8, 1), D(2025, 8, 31), what_happened="Two leavers missed.")

    readiness = audit_readiness(audit, today=D(2026, 1, 10))

    (exception,) = readiness.exceptions
    assert exception.kind == ExceptionKind.DEVIATION
    assert exception.detail == "UAR-1 deviated: Two leavers missed."
    assert "Exception: UAR-1 deviated: Two leavers missed." in [
        r for c in readiness.criteria for r in c.reasons
    ]


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_only_managers_record_deviations(org, make_member, control, role):
    with pytest.raises(NotPermitted):
        record(make_member(org, role), control)
    assert not Deviation.objects.for_org(org).exists()


def test_another_organizations_control_and_deviation_are_not_found(org, manager, outsider, control):
    with pytest.raises(NotFound):
        record(outsider, control)
    deviation = record(manager, control)
    with pytest.raises(Http404):
        deviation_get_for(outsider.organization, deviation.pk)
    with pytest.raises(NotFound):
        deviation_delete(membership=outsider, deviation=deviation)
    assert deviation_get_for(org, deviation.pk) == deviation


def test_deviations_need_the_management_response_and_a_period(manager, control):
    with pytest.raises(ValidationFailed) as error:
        record(manager, control, cause="  ")
    assert error.value.field == "cause"
    with pytest.raises(ValidationFailed) as error:
        record(manager, control, D(2025, 6, 30), D(2025, 6, 1))
    assert error.value.field == "period_end"


def test_deleting_a_deviation_is_logged(org, manager, control):
    deviation = record(manager, control)
    deviation_delete(membership=manager, deviation=deviation)
    assert not Deviation.objects.for_org(org).exists()
    actions = ActivityEntry.objects.for_org(org).filter(object_type="controls.deviation")
    assert sorted(actions.values_list("action", flat=True)) == ["create", "delete"]
