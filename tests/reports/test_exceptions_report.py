"""Type 2 exceptions in the reports: the PDF's Exceptions section and OSCAL risks, with the
management response of a recorded deviation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from trestle.oscal.assessment_results import AssessmentResults

from controls.deviations import deviation_record
from reports.content import report_content
from reports.rendering import oscal
from reports.rendering.pdf import render_single
from tenants.context import org_scope
from tests.reports.conftest import TODAY, pdf_text

pytestmark = pytest.mark.django_db


def _content(audit):
    with org_scope(audit.organization):
        return report_content(audit, today=TODAY)


@pytest.fixture
def with_deviation(populated, make_audit):
    """CM-02 misses Q3 and Q4 of 2025; management recorded a deviation for Q3."""
    audit = make_audit(populated.org, type2=True)
    cm02 = populated.controls[1]
    deviation_record(
        membership=populated.manager,
        control=cm02,
        period_start=dt.date(2025, 7, 1),
        period_end=dt.date(2025, 9, 30),
        what_happened="Changes were deployed without a second approver.",
        cause="The approval check was switched off during a migration.",
        remediation="Check re-enabled; the changes were reviewed after the fact.",
        remediation_date=dt.date(2025, 10, 20),
    )
    return audit


def test_oscal_lists_each_exception_as_a_risk_with_the_management_response(
    with_deviation, tmp_path
):
    content = _content(with_deviation)
    oscal.write(content, tmp_path / "ar.json")
    AssessmentResults.oscal_read(tmp_path / "ar.json")  # valid OSCAL

    result = json.loads((tmp_path / "ar.json").read_text())["assessment-results"]["results"][0]
    risks = {r["title"]: r for r in result["risks"]}
    q3 = risks["Exception: CM-02, 01 Jul 2025 – 30 Sep 2025"]
    assert q3["status"] == "closed"
    (response,) = q3["remediations"]
    assert response["lifecycle"] == "completed"
    assert "approval check was switched off" in response["description"]
    q4 = risks["Exception: CM-02, 01 Oct 2025 – 31 Dec 2025"]
    assert q4["status"] == "open" and "remediations" not in q4
    # IR-03 has nothing at all: four quarters, one row (consecutive missing periods merge).
    assert any(t.startswith("Exception: IR-03, 01 Jan 2025") for t in risks)


def test_the_type2_pdf_has_an_exceptions_section(with_deviation, tmp_path):
    content = _content(with_deviation)
    out = tmp_path / "report.pdf"
    render_single(content, out)
    text = " ".join(pdf_text(out.read_bytes(), tmp_path).split())

    assert "Exceptions" in text
    assert "CM-02 has no evidence for 01 Oct 2025 – 31 Dec 2025" in text
    assert "Changes were deployed without a second approver." in text
    assert "IR-03 has no evidence for 4 quarters in a row" in text
