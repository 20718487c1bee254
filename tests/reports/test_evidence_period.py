"""The evidence index (and the matrix's counts) list what the audit's period concerns: for a
Type 1 what was valid on the as-of date, for a Type 2 what covers part of the window."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.content import report_content
from tenants.context import org_scope
from tests.factories import ControlFactory, control_map, evidence_row
from tests.reports.conftest import AS_OF, TODAY, WINDOW

pytestmark = pytest.mark.django_db


def _index(audit, versions) -> tuple[set[int], dict[str, int]]:
    """Which of ``versions`` (numbered from 1) the index lists, and the matrix's counts."""
    with org_scope(audit.organization):
        content = report_content(audit, today=TODAY)
    number = {v.effective_start: n for n, v in enumerate(versions, start=1)}
    return (
        {number[row.effective_start] for row in content.evidence},
        {row.code: row.evidence_count for row in content.matrix},
    )


def test_type1_lists_what_was_valid_on_its_as_of_date(org, manager, make_audit):
    control = control_map(ControlFactory(organization=org, owner=manager, code="AC-01"), "CC6.1")
    day = dt.timedelta(days=1)
    versions = [
        evidence_row(control, AS_OF - 40 * day, valid_until=AS_OF),  # 1 valid to the day
        evidence_row(
            control, AS_OF - 400 * day, valid_until=AS_OF - day
        ),  # 2 expired the day before
        evidence_row(control, AS_OF + day, valid_until=AS_OF + 90 * day),  # 3 later evidence
        evidence_row(control, AS_OF, valid_until=AS_OF + 90 * day),  # 4 effective that day
    ]
    listed, counts = _index(make_audit(org), versions)
    assert listed == {1, 4}
    assert counts["AC-01"] == 2


def test_type2_lists_what_covers_part_of_its_window(org, manager, make_audit):
    control = control_map(ControlFactory(organization=org, owner=manager, code="AC-01"), "CC6.1")
    start, end = WINDOW
    day = dt.timedelta(days=1)
    versions = [
        evidence_row(control, start - 60 * day, start - day),  # 1 ends the day before the window
        evidence_row(control, start - 10 * day, start),  # 2 overlaps its first day
        evidence_row(control, end, end + 30 * day),  # 3 overlaps its last day
        evidence_row(control, end + day, end + 30 * day),  # 4 after the window
    ]
    listed, counts = _index(make_audit(org, type2=True), versions)
    assert listed == {2, 3}
    assert counts["AC-01"] == 2
