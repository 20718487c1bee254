"""CSV, XLSX and the evidence package, read back and compared with the data."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook

from controls.models import Control
from reports.content import report_content
from reports.rendering import exports
from tenants.context import org_scope
from tests.factories import ControlFactory, control_map, evidence_row
from tests.reports.conftest import TODAY

pytestmark = pytest.mark.django_db


def _content(audit):
    with org_scope(audit.organization):
        return report_content(audit, today=TODAY)


def _csv(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_control_matrix_csv_round_trips(populated, make_audit, tmp_path):
    audit = make_audit(populated.org)
    content = _content(audit)
    exports.matrix_csv(content, tmp_path / "m.csv")
    rows = _csv(tmp_path / "m.csv")
    assert rows[0] == exports.MATRIX_HEADER
    by_code = {r[0]: r for r in rows[1:]}
    assert set(by_code) == {"AC-01", "CM-02", "IR-03"}
    ac = by_code["AC-01"]
    assert ac[1:7] == [
        "Access reviews",
        "Procedural",
        "Quarterly",
        populated.manager.user.email,
        "Implemented",
        "CC6.1",
    ]
    # Valid on the as-of date (30 Jun 2025): the January and April links and the June file;
    # July's and October's came later.
    assert ac[7] == "3"
    assert ac[8] == "2026-06-30"  # the file's valid_until, the latest accepted
    assert by_code["IR-03"][7:] == ["0", "", "", ""]


def test_control_matrix_says_what_each_control_needs_next_and_by_when(
    populated, make_audit, tmp_path
):
    """The home's to-do rules (evidence.todo.next_due) as of the report's day, 1 Feb 2026."""
    Control.objects.for_org(populated.org).filter(code="IR-03").update(
        due_date=dt.date(2026, 1, 20)
    )
    exports.matrix_csv(_content(make_audit(populated.org)), tmp_path / "m.csv")
    rows = _csv(tmp_path / "m.csv")
    assert rows[0][-2:] == ["Next due", "Next due for"]
    due = {r[0]: r[-2:] for r in rows[1:]}
    # Current evidence until its file stops counting; stale since September; not implemented
    # by its due date.
    assert due == {
        "AC-01": ["2026-06-30", "Renew evidence"],
        "CM-02": ["2025-09-07", "Upload current evidence (overdue)"],
        "IR-03": ["2026-01-20", "Implement (overdue)"],
    }


def test_evidence_csv_and_xlsx_round_trip(populated, make_audit, tmp_path):
    audit = make_audit(populated.org, type2=True)
    content = _content(audit)
    exports.evidence_csv(content, tmp_path / "e.csv")
    exports.xlsx(content, tmp_path / "r.xlsx")
    rows = _csv(tmp_path / "e.csv")
    assert rows[0] == exports.EVIDENCE_HEADER
    assert len(rows) - 1 == len(content.evidence) == 7
    expected = [
        ["" if v is None else str(v) for v in row]
        for row in exports.evidence_rows(content.evidence)
    ]
    assert rows[1:] == expected
    book = load_workbook(tmp_path / "r.xlsx", read_only=True)
    assert book.sheetnames == ["Control matrix", "Evidence index"]
    sheet = [list(r) for r in book["Evidence index"].iter_rows(values_only=True)]
    assert sheet[0] == exports.EVIDENCE_HEADER
    assert sheet[1:] == exports.evidence_rows(content.evidence)
    matrix = [list(r) for r in book["Control matrix"].iter_rows(values_only=True)]
    assert [r[0] for r in matrix[1:]] == [r.code for r in content.matrix]
    assert [r[7] for r in matrix[1:]] == [r.evidence_count for r in content.matrix]


def test_formulas_are_neutralised(org, manager, make_audit, tmp_path):
    hostile = ['=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1)", "\tTAB"]
    for n, title in enumerate(hostile):
        control_map(
            ControlFactory(organization=org, owner=manager, code=f"F-{n}", title=title), "CC6.1"
        )
    audit = make_audit(org)
    content = _content(audit)
    exports.matrix_csv(content, tmp_path / "m.csv")
    titles = [r[1] for r in _csv(tmp_path / "m.csv")[1:]]
    assert titles == ["'" + t for t in hostile]
    exports.xlsx(content, tmp_path / "r.xlsx")
    sheet = load_workbook(tmp_path / "r.xlsx")["Control matrix"]
    cells = [sheet.cell(row=r, column=2) for r in range(2, 2 + len(hostile))]
    assert [c.value for c in cells] == hostile  # exact text...
    assert all(c.data_type == "s" for c in cells)  # ...stored as text, never a formula
    assert exports.neutralise(-3) == -3  # numbers stay numbers


def test_package_manifest_hashes_match_the_files(populated, make_audit, tmp_path):
    control = Control.objects.for_org(populated.org).get(code="CM-02")
    evidence_row(control, TODAY.replace(year=2025, month=8, day=1))
    audit = make_audit(populated.org, type2=True)
    content = _content(audit)
    exports.package(content, tmp_path / "p.zip")
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["audit"] == audit.name
        assert len(manifest["files"]) == len(content.evidence) == 8
        for entry in manifest["files"]:
            data = archive.read(entry["path"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert entry["sha256_matches"] is True
            assert entry["effective_start"] <= entry["effective_end"]
        pdf = next(e for e in manifest["files"] if e["kind"] == "file")
        assert archive.read(pdf["path"]) == b"%PDF-1.4 quarterly access review"
        assert pdf["name"] == "access-review-q2.pdf" and pdf["version"] == 1
        index = list(
            csv.reader(io.StringIO(archive.read("evidence_index.csv").decode("utf-8-sig")))
        )
        assert len(index) == 9 and index[0][-1] == "SHA-256"


def test_package_flags_a_file_changed_in_storage(populated, make_audit, tmp_path):
    from django.core.files.storage import default_storage

    audit = make_audit(populated.org)
    content = _content(audit)
    row = next(r for r in content.evidence if r.kind == "file")
    with default_storage.open(row.storage_name, "wb") as handle:
        handle.write(b"tampered")
    exports.package(content, tmp_path / "p.zip")
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        entry = next(
            e for e in json.loads(archive.read("manifest.json"))["files"] if e["kind"] == "file"
        )
    assert entry["sha256"] == row.sha256 and entry["sha256_matches"] is False


def test_xlsx_sheets_freeze_the_header_filter_the_data_and_fit_the_columns(
    populated, make_audit, tmp_path
):
    long_title = "Quarterly review of privileged access to the production payment systems " * 2
    control_map(
        ControlFactory(organization=populated.org, code="LONG-1", title=long_title.strip()),
        "CC6.1",
    )
    audit = make_audit(populated.org)
    content = _content(audit)
    exports.xlsx(content, tmp_path / "r.xlsx")
    book = load_workbook(tmp_path / "r.xlsx")
    for name, header, rows in (
        ("Control matrix", exports.MATRIX_HEADER, len(content.matrix)),
        ("Evidence index", exports.EVIDENCE_HEADER, len(content.evidence)),
    ):
        sheet = book[name]
        assert sheet.freeze_panes == "A2"  # the header row stays in view
        last = chr(ord("A") + len(header) - 1)
        assert sheet.auto_filter.ref == f"A1:{last}{rows + 1}"  # header and every data row
        assert sheet.max_row == rows + 1
        for i, title in enumerate(header, start=1):
            letter = chr(ord("A") + i - 1)
            longest = max(
                len(str(sheet.cell(row=r, column=i).value or "")) for r in range(1, rows + 2)
            )
            width = sheet.column_dimensions[letter].width
            # As wide as the longest cell (and the filter button), never wider than the cap.
            assert width >= min(longest + 2, exports.WIDTH_MAX), (name, title)
            assert width <= max(longest + 3, exports.WIDTH_MIN), (name, title)
    matrix = book["Control matrix"]
    assert matrix.column_dimensions["B"].width == exports.WIDTH_MAX  # the long title: capped
    assert matrix.column_dimensions["A"].width <= 10  # codes: narrow
    evidence = book["Evidence index"]
    assert evidence.column_dimensions["L"].width >= 64  # a whole SHA-256
