"""Readiness API: the engine's figures, reasons, owners and Type 2 periods, serialized."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from controls.periods import add_months
from tenants.models import Role
from tests.api.conftest import org_url
from tests.factories import ControlFactory, control_map, evidence_row

LONG_AGO = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
AS_OF = dt.date(2025, 3, 31)


def mapped(org, *refs: str, **fields):
    return control_map(ControlFactory(organization=org, created_at=LONG_AGO, **fields), *refs)


def test_type1_readiness(api, org, manager, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    met = mapped(org, "CC6.1", code="AC-1", owner=manager)
    evidence_row(met, dt.date(2025, 1, 1), dt.date(2025, 3, 1), valid_until=dt.date(2025, 6, 30))
    mapped(org, "CC6.2", code="AC-2", status="in_progress")
    data = api.get(org_url(org, f"audits/{audit.pk}/readiness/")).json()

    assert data["audit"]["id"] == audit.pk and data["audit"]["as_of_date"] == "2025-03-31"
    assert data["counts"] == {"met": 1, "partial": 0, "gap": 32, "not_applicable": 0}
    assert data["score"] == pytest.approx(round(100 / 33, 1))
    assert [c["key"] for c in data["categories"]] == ["security"]
    by_ref = {c["ref"]: c for c in data["criteria"]}
    assert by_ref["CC6.1"]["status"] == "met"
    assert by_ref["CC6.1"]["owners"] == [manager.user.email]
    assert by_ref["CC6.1"]["controls"] == [{"id": met.pk, "code": "AC-1"}]
    assert by_ref["CC6.1"]["reasons"] == [
        "Met by AC-1 (implemented, evidence current on the as-of date)."
    ]
    assert (
        by_ref["CC6.2"]["status"] == "gap"  # in progress without evidence is not progress
        and "AC-2 is in progress" in (by_ref["CC6.2"]["reasons"][0])
    )
    assert by_ref["CC1.1"]["status"] == "gap" and by_ref["CC1.1"]["controls"] == []
    controls = {c["code"]: c for c in data["controls"]}
    assert controls["AC-1"]["operating"] and controls["AC-1"]["accepted"] == 1
    assert controls["AC-1"]["periods"] == [] and controls["AC-1"]["sample_size"] == ""


def test_type2_readiness_has_periods_and_sample_sizes(api, org, make_audit):
    today = timezone.localdate()
    start = add_months(today, -4)
    audit = make_audit(org, window=(start, add_months(start, 12) - dt.timedelta(days=1)))
    quarterly = mapped(org, "CC6.1", code="Q-1", frequency="quarterly")
    evidence_row(quarterly, start + dt.timedelta(days=10))
    mapped(org, "CC6.2", code="M-1", frequency="monthly")
    data = api.get(org_url(org, f"audits/{audit.pk}/readiness/")).json()

    controls = {c["code"]: c for c in data["controls"]}
    q = controls["Q-1"]
    assert [p["status"] for p in q["periods"]] == ["covered", "upcoming", "upcoming", "upcoming"]
    assert q["periods"][0]["start"] == start.isoformat() and q["periods_ended"] == 1
    assert q["sample_size"] == "2" and q["operating"] is True
    m = controls["M-1"]
    assert [p["status"] for p in m["periods"]][:5] == ["missing"] * 4 + ["upcoming"]
    assert m["sample_size"] == "2–5" and m["operating"] is False
    assert "no accepted evidence for 4 of 4 ended periods" in m["note"]
    by_ref = {c["ref"]: c for c in data["criteria"]}
    assert by_ref["CC6.1"]["status"] == "met" and by_ref["CC6.2"]["status"] == "partial"


def test_auditors_read_readiness_in_the_portal_not_the_api(org, make_member, api_for, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    response = api_for(make_member(org, Role.AUDITOR)).get(
        org_url(org, f"audits/{audit.pk}/readiness/")
    )
    # Auditors read in the auditor portal only: the API refuses them even reads.
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_readiness_is_read_only(api, org, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    assert api.post(org_url(org, f"audits/{audit.pk}/readiness/"), {}).status_code == 405


@pytest.mark.parametrize("rows", [3, 30])
def test_readiness_queries_do_not_grow(
    api, org, manager, make_audit, rows, django_assert_num_queries
):
    audit = make_audit(org, window=(dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
    for n in range(rows):
        control = mapped(org, "CC6.1", "CC7.2", code=f"R-{n:02d}", owner=manager)
        evidence_row(control, dt.date(2024, 2, 1))
        evidence_row(control, dt.date(2024, 5, 1), state="pending")
        record_deviation(manager, control)
    # session, user, membership + organization, audit (with framework); the engine: scope,
    # criteria, mappings (controls, owners, users), frequency rules, evidence, answers,
    # deviations (with who recorded them)
    with django_assert_num_queries(11):
        response = api.get(org_url(org, f"audits/{audit.pk}/readiness/"))
    body = response.json()
    assert len(body["controls"]) == rows
    assert len([e for e in body["exceptions"] if e["deviation"]]) == rows


def record_deviation(manager, control):
    from controls.deviations import deviation_record

    return deviation_record(
        membership=manager,
        control=control,
        period_start=dt.date(2024, 7, 1),
        period_end=dt.date(2024, 7, 31),
        what_happened="No review in July.",
        cause="Reviewer on leave.",
        remediation="Deputy named.",
        remediation_date=dt.date(2024, 8, 15),
    )


def test_type2_readiness_lists_exceptions_flags_and_plain_figures(api, org, manager, make_audit):
    audit = make_audit(org, window=(dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
    review = mapped(org, "CC6.2", code="UAR-1", owner=manager, operation="manual")
    evidence_row(review, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    deviation = record_deviation(manager, review)

    data = api.get(org_url(org, f"audits/{audit.pk}/readiness/")).json()

    control = data["controls"][0]
    assert control["operation"] == "manual"
    assert control["flags"][0].startswith("Evidence for 01 Jan 2024 – 31 Dec 2024 covers 4")
    assert data["figures"] == {
        "controls_implemented": 1,
        "controls_applicable": 1,
        "periods_covered": 1,
        "periods_ended": 4,
    }
    first, second, third = data["exceptions"]
    assert first["control"] == {"id": review.pk, "code": "UAR-1"}
    assert (first["period_start"], first["period_end"]) == ("2024-01-01", "2024-03-31")
    assert first["kind"] == "missing" and first["owner_email"] == manager.user.email
    assert first["deviation"] is None
    assert third["period_start"] == "2024-07-01"
    assert third["deviation"]["id"] == deviation.pk
    assert third["deviation"]["remediation"] == "Deputy named."
