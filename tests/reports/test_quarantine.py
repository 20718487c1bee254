"""Files held for their malware scan or quarantined leave in no output: the report formats
(PDF, CSV, XLSX, OSCAL, the evidence package, whose manifest lists them as excluded), the
auditor portal, requests for information and readiness. Clean files and what was stored with
scanning off go everywhere, with who reviewed them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from controls.models import Audit
from controls.readiness import Status, audit_readiness
from evidence import services
from evidence.models import EvidenceVersion, ReviewState, ScanState
from reports import pbc, selectors
from reports.build import build_report
from reports.content import report_content
from reports.services import auditor_access_grant
from soc2app.errors import ValidationFailed
from tenants.context import org_scope
from tenants.models import Membership, Organization, Role
from tests.factories import ControlFactory, control_map
from tests.reports.conftest import AS_OF, TODAY, pdf_text
from tests.scanner import hold_uploads

pytestmark = pytest.mark.django_db

DAY = AS_OF - dt.timedelta(days=20)


def _upload(membership: Membership, control, name: str, body: bytes) -> EvidenceVersion:
    return services.evidence_submit_file(
        membership=membership,
        control=control,
        upload=SimpleUploadedFile(name, body, "text/plain"),
        effective_start=DAY,
    )


@dataclass
class Held:
    org: Organization
    audit: Audit
    delivered: EvidenceVersion  # stored with scanning off, accepted by ``reviewer``
    pending: EvidenceVersion  # held: clamd was unreachable
    infected: EvidenceVersion  # the rescan found malware (accepted before it was found)
    reviewer: Membership


@pytest.fixture
def held(org, manager, reviewer, make_audit, settings) -> Held:
    control = control_map(
        ControlFactory(organization=org, owner=manager, code="BK-01", title="Backups"), "CC6.1"
    )
    # clamd unreachable: the real upload path holds both files as pending.
    hold_uploads(settings)
    pending = _upload(manager, control, "held-pending.txt", b"restore test, not scanned yet\n")
    infected = _upload(manager, control, "held-infected.txt", b"restore test, infected\n")
    assert {pending.scan_state, infected.scan_state} == {ScanState.PENDING}
    # What the rescan writes when clamd finds malware; "accepted" as data reviewed before
    # review refused held files would be.
    EvidenceVersion.objects.for_org(org).filter(pk=infected.pk).update(
        scan_state=ScanState.INFECTED, review_state=ReviewState.ACCEPTED
    )
    settings.CLAMAV_HOST = ""  # scanning off: the next upload is stored as not scanned
    delivered = _upload(manager, control, "restore-q2.txt", b"restore test passed\n")
    assert delivered.scan_state == ScanState.NOT_SCANNED
    services.evidence_review(membership=reviewer, version=delivered, decision="accepted")
    infected.refresh_from_db()
    audit = make_audit(org, name="FY25 Type 1")
    return Held(org, audit, delivered, pending, infected, reviewer)


def _build(held: Held, kind: str, tmp_path) -> bytes:
    out = tmp_path / f"report.{kind}"
    with org_scope(held.org):
        build_report(held.audit, kind, out)
    return out.read_bytes()


def _hidden(held: Held) -> list[EvidenceVersion]:
    return [held.pending, held.infected]


def test_report_data_leaves_out_held_and_quarantined_files(held):
    with org_scope(held.org):
        content = report_content(held.audit, today=TODAY)
    assert [r.pk for r in content.evidence] == [held.delivered.pk]
    assert content.evidence[0].reviewed_by == held.reviewer.user.email
    assert [(w.pk, w.scan_state) for w in content.withheld] == [
        (held.infected.pk, "infected"),
        (held.pending.pk, "pending"),
    ]
    (bk,) = [row for row in content.matrix if row.code == "BK-01"]
    assert bk.evidence_count == 1


def test_csv_and_xlsx_leave_them_out_and_name_the_reviewer(held, tmp_path):
    text = _build(held, "evidence_csv", tmp_path).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][8:10] == ["Review state", "Reviewed by"]
    assert [r[2] for r in rows[1:]] == ["restore-q2.txt"]
    assert rows[1][9] == held.reviewer.user.email
    for version in _hidden(held):
        assert version.sha256 not in text and version.original_name not in text

    _build(held, "xlsx", tmp_path)
    book = load_workbook(tmp_path / "report.xlsx", read_only=True)
    cells = [c for row in book["Evidence index"].iter_rows(values_only=True) for c in row]
    assert "restore-q2.txt" in cells and held.reviewer.user.email in cells
    assert not {v.original_name for v in _hidden(held)} & set(cells)
    matrix = [list(r) for r in book["Control matrix"].iter_rows(values_only=True)]
    assert next(r for r in matrix if r[0] == "BK-01")[7] == 1  # evidence count


def test_package_holds_only_deliverable_versions_and_lists_the_excluded(held, tmp_path):
    _build(held, "package", tmp_path)
    with zipfile.ZipFile(tmp_path / "report.package") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = archive.namelist()
        packed = b"".join(archive.read(n) for n in names)
    assert [f["name"] for f in manifest["files"]] == ["restore-q2.txt"]
    assert manifest["files"][0]["reviewed_by"] == held.reviewer.user.email
    assert manifest["excluded"] == [
        {
            "control": "BK-01",
            "evidence_item": "held-infected.txt",
            "version": 1,
            "scan_state": "infected",
            "reason": "quarantined: the malware scan found a threat",
        },
        {
            "control": "BK-01",
            "evidence_item": "held-pending.txt",
            "version": 1,
            "scan_state": "pending",
            "reason": "waiting for its malware scan",
        },
    ]
    assert not any("held-" in n for n in names)
    # Neither their bytes nor their hashes are anywhere in the archive (evidence index included).
    assert b"restore test passed" in packed and held.delivered.sha256.encode() in packed
    assert b"not scanned yet" not in packed and b"restore test, infected" not in packed
    for version in _hidden(held):
        assert version.sha256.encode() not in packed


def test_oscal_leaves_them_out_and_names_the_reviewer(held, tmp_path):
    results = json.loads(_build(held, "oscal", tmp_path))
    (result,) = results["assessment-results"]["results"]
    evidence = [e for o in result["observations"] for e in o["relevant-evidence"]]
    assert [e["description"] for e in evidence] == ["restore-q2.txt: restore-q2.txt (version 1)"]
    props = {p["name"]: p["value"] for p in evidence[0]["props"]}
    assert props["reviewed-by"] == held.reviewer.user.email
    text = json.dumps(results)
    for version in _hidden(held):
        assert version.sha256 not in text and version.original_name not in text


def test_pdf_leaves_them_out_and_names_the_reviewer(held, tmp_path):
    text = pdf_text(_build(held, "pdf", tmp_path), tmp_path)
    assert held.delivered.sha256 in text and "restore-q2.txt" in text
    assert held.reviewer.user.email in text
    assert "2 uploaded files are left out: waiting for the malware scan or quarantined" in (
        " ".join(text.split())
    )
    for version in _hidden(held):
        assert version.sha256 not in text and version.original_name not in text


def test_readiness_counts_only_the_deliverable_version(held, manager):
    with org_scope(held.org):
        cc61 = next(r for r in audit_readiness(held.audit).criteria if r.criterion.ref == "CC6.1")
    assert cc61.status == Status.MET
    (control,) = cc61.controls
    assert control.accepted == 1  # the accepted, quarantined file does not count
    assert control.reviewers == [held.reviewer.user.email]
    assert f"reviewed by {held.reviewer.user.email}" in cc61.reasons[0]
    # Without the deliverable version, the accepted quarantined one proves nothing.
    EvidenceVersion.objects.for_org(held.org).filter(pk=held.delivered.pk).update(
        review_state=ReviewState.REJECTED
    )
    with org_scope(held.org):
        cc61 = next(r for r in audit_readiness(held.audit).criteria if r.criterion.ref == "CC6.1")
    assert cc61.status != Status.MET


# --- the auditor portal and requests for information -----------------------------------------


@pytest.fixture
def auditor(held, manager, make_member) -> Membership:
    auditor = make_member(held.org, Role.AUDITOR)
    auditor_access_grant(membership=manager, auditor=auditor, audit=held.audit)
    return auditor


def _portal(name: str, held: Held, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": held.org.slug, "audit_pk": held.audit.pk, **kwargs})


def test_portal_shows_and_serves_only_deliverable_versions(held, auditor, client_for):
    client = client_for(auditor)
    control = held.delivered.item.control_id
    for page in (
        client.get(_portal("portal_control", held, pk=control)),
        client.get(_portal("portal_evidence_item", held, pk=held.pending.item_id)),
        client.get(_portal("portal_evidence_item", held, pk=held.infected.item_id)),
    ):
        assert page.status_code == 200
        html = page.content.decode()
        for version in _hidden(held):
            assert version.sha256 not in html
            assert _portal("portal_version_download", held, pk=version.pk) not in html
    shown = client.get(_portal("portal_control", held, pk=control)).content.decode()
    assert held.delivered.sha256 in shown
    for version in _hidden(held):
        url = _portal("portal_version_download", held, pk=version.pk)
        assert client.get(url).status_code == 404
    served = client.get(_portal("portal_version_download", held, pk=held.delivered.pk))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"restore test passed\n"


def test_requests_cannot_be_answered_with_held_or_quarantined_files(held, auditor, manager):
    request = pbc.request_raise(
        membership=auditor,
        audit=held.audit,
        title="Backup restore tests",
        details="The latest restore test.",
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    answerable = {v.pk for v in selectors.answerable_versions(held.audit)}
    assert answerable == {held.delivered.pk}
    for version in _hidden(held):
        with pytest.raises(ValidationFailed) as refused:
            pbc.request_answer(membership=manager, request=request, version_ids=[version.pk])
        assert refused.value.code == "not_deliverable"
    pbc.request_answer(membership=manager, request=request, version_ids=[held.delivered.pk])
    assert [a.version_id for a in selectors.request_attachments(request)] == [held.delivered.pk]


# --- the whole story with a real clamd -------------------------------------------------------

# The EICAR anti-virus test file: harmless, detected by every scanner.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.mark.clamav
def test_a_file_found_infected_by_the_rescan_never_leaves(
    org, manager, reviewer, make_audit, settings, client_for, tmp_path
):
    """clamd down: the upload is held; clamd back: the rescan quarantines it. It cannot be
    accepted, and the package leaves it out and says so."""
    import os

    from evidence import scanning

    control = control_map(ControlFactory(organization=org, owner=manager, code="BK-02"), "CC6.1")
    hold_uploads(settings)
    version = _upload(manager, control, "restore-log.txt", EICAR)
    assert version.scan_state == ScanState.PENDING
    settings.CLAMAV_HOST = os.environ.get("CLAMAV_HOST", "")
    settings.CLAMAV_PORT = int(os.environ.get("CLAMAV_PORT", "3310"))
    settings.CLAMAV_SOCKET = os.environ.get("CLAMAV_SOCKET", "")
    assert scanning.evidence_rescan_pending()["infected"] == 1
    version.refresh_from_db()
    assert version.scan_state == ScanState.INFECTED

    refused = client_for(reviewer).post(
        reverse("evidence_review", args=[org.slug, version.pk]), {"decision": "accepted"}
    )
    assert refused.status_code == 400 and "quarantined" in refused.content.decode()
    version.refresh_from_db()
    assert version.review_state == ReviewState.PENDING

    audit = make_audit(org)
    out = tmp_path / "package.zip"
    with org_scope(org):
        build_report(audit, "package", out)
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        packed = b"".join(archive.read(n) for n in archive.namelist())
    assert manifest["files"] == []
    assert [(e["evidence_item"], e["scan_state"]) for e in manifest["excluded"]] == [
        ("restore-log.txt", "infected")
    ]
    assert EICAR not in packed and version.sha256.encode() not in packed
