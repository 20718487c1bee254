"""The audit's readiness as OSCAL assessment results: valid for compliance-trestle's models,
and saying what the readiness engine and the evidence index say."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from trestle.oscal.assessment_results import AssessmentResults

from reports.content import report_content
from reports.models import ReportKind
from reports.rendering import oscal
from tenants.context import org_scope
from tests.factories import ControlFactory, control_map
from tests.reports.conftest import TODAY

pytestmark = pytest.mark.django_db


def _content(audit):
    with org_scope(audit.organization):
        return report_content(audit, today=TODAY)


def test_assessment_results_are_valid_and_match_the_readiness(populated, make_audit, tmp_path):
    audit = make_audit(populated.org, type2=True)
    content = _content(audit)
    oscal.write(content, tmp_path / "ar.json")
    parsed = AssessmentResults.oscal_read(tmp_path / "ar.json")  # trestle's OSCAL validation
    (result,) = parsed.results
    assert result.start.date() == audit.window_start and result.end.date() == audit.window_end
    findings = {f.target.target_id: f for f in result.findings}
    readiness = {c.criterion.ref.lower(): c for c in content.readiness.criteria}
    assert set(findings) == set(readiness)
    for ref, finding in findings.items():
        met = readiness[ref].status in ("met", "not_applicable")
        assert finding.target.status.state.value == ("satisfied" if met else "not-satisfied")
        assert finding.target.status.reason == readiness[ref].status
    # CC6.1 is served by AC-01: its observation lists every version with its SHA-256.
    raw = json.loads((tmp_path / "ar.json").read_text())["assessment-results"]["results"][0]
    observations = {o["uuid"]: o for o in raw["observations"]}
    (link,) = next(f for f in raw["findings"] if f["target"]["target-id"] == "cc6.1")[
        "related-observations"
    ]
    evidence = observations[link["observation-uuid"]]["relevant-evidence"]
    rows = [r for r in content.evidence if r.control == "AC-01"]
    assert len(evidence) == len(rows) == 5
    hashes = {p["value"] for e in evidence for p in e["props"] if p["name"] == "sha256"}
    assert hashes == {r.sha256 for r in rows}
    # The same data gives the same results (stable UUIDs); only the generation time moves.
    again = oscal.assessment_results(_content(audit))["assessment-results"]
    first = json.loads((tmp_path / "ar.json").read_text())["assessment-results"]
    assert again["uuid"] == first["uuid"] and again["results"] == first["results"]


def test_a_type1_result_is_at_the_as_of_date_and_titles_are_data(
    org, manager, make_audit, tmp_path
):
    control_map(ControlFactory(organization=org, code="X-1", title='<img src="x">'), "CC6.1")
    audit = make_audit(org)
    oscal.write(_content(audit), tmp_path / "ar.json")
    parsed = AssessmentResults.oscal_read(tmp_path / "ar.json")
    (result,) = parsed.results
    assert result.start == result.end and result.start.date() == audit.as_of_date
    assert not getattr(result, "observations", None)  # no evidence, no observation


def test_render_report_writes_oscal(populated, make_audit, tmp_path, capsys):
    audit = make_audit(populated.org)
    out = tmp_path / "ar.json"
    call_command("render_report", "--audit", str(audit.pk), "--out", str(out), "--format", "oscal")
    assert AssessmentResults.oscal_read(out).results[0].findings
    assert ReportKind.OSCAL in ReportKind.values
