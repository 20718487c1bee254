"""Items an auditor marks *exception* in sample testing join the readiness: the audit's
Exceptions list (kind failed), the control (operating with exceptions), its criterion's
reasons, the API, and a recorded deviation as their management response."""

from __future__ import annotations

import datetime as dt

import pytest

from controls.deviations import deviation_record
from controls.readiness import audit_readiness
from reports import populations, samples, selectors_sampling
from tests.factories import evidence_row
from tests.reports.conftest import TODAY, hires_csv

pytestmark = pytest.mark.django_db
NOTE = "No signed offer letter on file."


def _failed_item(w):
    """Draw 5 of 60 new hires and mark the first item an exception; returns the item."""
    population = populations.population_upload_csv(
        membership=w.manager, audit=w.audit, control=w.control, data=hires_csv(60)
    )
    sample = samples.sample_draw(
        membership=w.auditor,
        population=population,
        seed="seed-for-tests-1",
        size=5,
        size_reason="Low-risk control.",
    )
    item = selectors_sampling.sample_items(sample).first()
    samples.sample_item_test(membership=w.auditor, item=item, result="exception", note=NOTE)
    return item


def _criterion(readiness, ref="CC1.4"):
    return next(r for r in readiness.criteria if r.criterion.ref == ref)


def test_a_failed_item_is_an_exception_of_its_control_and_criterion(sampling_world):
    w = sampling_world
    item = _failed_item(w)
    day, item_id = item.population_item.date, item.population_item.item_id

    readiness = audit_readiness(w.audit, today=TODAY)
    (failed,) = [e for e in readiness.exceptions if e.kind == "failed"]
    assert (failed.control.pk, failed.period.start, failed.period.end) == (w.control.pk, day, day)
    assert (failed.item_id, failed.tested_by) == (item_id, w.auditor.user.email)
    assert NOTE.rstrip(".") in failed.detail and item_id in failed.detail
    assert failed in readiness.controls[w.control.pk].exceptions
    # Not met (no evidence): the reasons still name the failed item.
    assert any(f"item {item_id}" in reason for reason in _criterion(readiness).reasons)
    # Another audit of the same organization sees nothing of it.
    other = audit_readiness(w.other_audit, today=TODAY)
    assert not [e for e in other.exceptions if e.kind == "failed"]


def test_a_met_control_with_a_failed_item_operates_with_exceptions(sampling_world):
    w = sampling_world
    for day in (
        dt.date(2025, 2, 1),
        dt.date(2025, 5, 1),
        dt.date(2025, 8, 1),
        dt.date(2025, 11, 1),
    ):
        evidence_row(w.control, day)
    item = _failed_item(w)

    row = _criterion(audit_readiness(w.audit, today=TODAY))
    assert row.status == "met"
    assert "operating with exceptions: 1 failed in sample testing" in row.reasons[0]
    assert any(
        r.startswith("Exception: HR-01 failed sample testing: item " + item.population_item.item_id)
        for r in row.reasons
    )


def test_a_deviation_over_the_items_date_is_its_management_response(sampling_world):
    w = sampling_world
    for day in (
        dt.date(2025, 2, 1),
        dt.date(2025, 5, 1),
        dt.date(2025, 8, 1),
        dt.date(2025, 11, 1),
    ):
        evidence_row(w.control, day)
    day = _failed_item(w).population_item.date
    deviation = deviation_record(
        membership=w.manager,
        control=w.control,
        period_start=day.replace(day=1),
        period_end=day,
        what_happened="An offer letter was filed late.",
        cause="HR backlog.",
        remediation="Letters are now checked weekly.",
    )

    readiness = audit_readiness(w.audit, today=TODAY)
    kinds = [(e.kind, e.deviation.pk if e.deviation else None) for e in readiness.exceptions]
    # One row: the failed item, answered; the deviation is not listed a second time.
    assert kinds == [("failed", deviation.pk)]
