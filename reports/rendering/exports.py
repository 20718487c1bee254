"""CSV and XLSX exports of the control matrix and evidence index, and the evidence package.

Spreadsheet programs run cell text that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or
carriage return) as a formula, so such CSV cells get a leading apostrophe; XLSX cells are
written with the string type instead, which keeps the text exact and never a formula.

The evidence package (ZIP) freezes the evidence of the audit's scope at report time: each
version's content (the file, the link's address, or the data record as canonical JSON: the
bytes its SHA-256 was computed over), ``manifest.json`` (version, effective period, valid until
and the SHA-256 recorded at upload, with the hash of the bytes actually packed) and the
evidence index as CSV, so an auditor can check that nothing changed after the report. Files
held for their malware scan or quarantined are never packed: the manifest's ``excluded`` list
names each (control, item, version) with the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage

from evidence.filenames import download_name
from evidence.models import DATA_KINDS, EvidenceKind
from reports.content import EvidenceRow, MatrixRow, ReportContent

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

MATRIX_HEADER = [
    "Code",
    "Title",
    "Type",
    "Frequency",
    "Owner",
    "Status",
    "Criteria",
    "Evidence count",
    "Latest evidence valid until",
    "Next due",
    "Next due for",
]
EVIDENCE_HEADER = [
    "Control",
    "Evidence item",
    "File or link",
    "Kind",
    "Version",
    "Effective start",
    "Effective end",
    "Valid until",
    "Review state",
    "Reviewed by",
    "Size (bytes)",
    "SHA-256",
]


def neutralise(value: Any) -> Any:
    """A CSV cell that a spreadsheet would not run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else value


def matrix_rows(rows: Iterable[MatrixRow]) -> list[list[Any]]:
    return [
        [
            r.code,
            r.title,
            r.control_type,
            r.frequency,
            r.owner,
            r.status,
            r.criteria,
            r.evidence_count,
            _cell(r.latest_valid_until),
            _cell(r.next_due),
            r.next_due_for,
        ]
        for r in rows
    ]


def evidence_rows(rows: Iterable[EvidenceRow]) -> list[list[Any]]:
    return [
        [
            r.control,
            r.item,
            r.name,
            r.kind,
            r.version,
            _cell(r.effective_start),
            _cell(r.effective_end),
            _cell(r.valid_until),
            r.review_state,
            r.reviewed_by or None,  # an empty cell, in CSV and XLSX alike
            r.size,
            r.sha256,
        ]
        for r in rows
    ]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    # A byte order mark so that spreadsheet programs read UTF-8 (names with accents).
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def matrix_csv(content: ReportContent, out: Path) -> None:
    out.write_bytes(csv_bytes(MATRIX_HEADER, matrix_rows(content.matrix)))


def evidence_csv(content: ReportContent, out: Path) -> None:
    out.write_bytes(csv_bytes(EVIDENCE_HEADER, evidence_rows(content.evidence)))


WIDTH_MIN, WIDTH_MAX = 8, 66  # characters; a SHA-256 (64) fits, a long title is cut off


def column_widths(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Each column as wide as its longest cell (header included), within the bounds, plus a
    little room for the autofilter's button."""
    widths = [len(str(name)) for name in header]
    for row in rows:
        for i, value in enumerate(row):
            if value is not None and len(str(value)) > widths[i]:
                widths[i] = len(str(value))
    return [min(WIDTH_MAX, max(WIDTH_MIN, w + 3)) for w in widths]


def xlsx(content: ReportContent, out: Path) -> None:
    """The control matrix and the evidence index, one sheet each (``write_sheet``)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    write_sheet(book, "Control matrix", MATRIX_HEADER, matrix_rows(content.matrix))
    write_sheet(book, "Evidence index", EVIDENCE_HEADER, evidence_rows(content.evidence))
    book.save(out)


def write_sheet(
    book: Any, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """A sheet of a write-only workbook with its header row frozen and bold, an autofilter
    over the header and data, and columns as wide as their content; text cells are written
    as text, never as formulas."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    # Column widths go before the first row in a write-only sheet; the filter after.
    for i, width in enumerate(column_widths(header, rows), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    last = get_column_letter(len(header))
    sheet.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    head = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        sheet.append(cells)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(name: str, limit: int = 80) -> str:
    return _UNSAFE.sub("_", name).strip("._")[:limit] or "file"


def _data_records(content: ReportContent) -> dict[int, bytes]:
    """Canonical JSON of the data versions (the bytes their SHA-256 was computed over)."""
    from evidence.models import EvidenceVersion
    from evidence.services import canonical_json

    ids = [r.pk for r in content.evidence if r.kind in DATA_KINDS]
    if not ids:
        return {}
    rows = EvidenceVersion.objects.for_org(content.audit.organization_id).filter(pk__in=ids)
    return {pk: canonical_json(data) for pk, data in rows.values_list("pk", "data")}


def _content(row: EvidenceRow, data: dict[int, bytes]) -> tuple[str, Any]:
    """The packed bytes of a version: ("file", storage name) or ("bytes", the bytes)."""
    if row.kind == EvidenceKind.FILE:
        return "file", row.storage_name
    if row.kind == EvidenceKind.SYSTEM and row.storage_name:
        # The run's raw output (what its SHA-256 is of); the summary is in the index.
        return "file", row.storage_name
    if row.kind == EvidenceKind.LINK:
        return "bytes", row.name.encode()
    return "bytes", data.get(row.pk, b"")


def package(content: ReportContent, out: Path, *, progress=None) -> None:
    """The evidence package (see the module docstring)."""
    data_records = _data_records(content)
    manifest: dict[str, Any] = {
        "organization": content.organization.name,
        "audit": content.audit.name,
        "audit_type": content.audit.audit_type,
        "framework": content.catalog_version,
        "generated_at": content.generated_at.isoformat(),
        "data_as_of": content.data_as_of.isoformat(),
        "files": [],
        # Versions that exist but were not packed: files held for their malware scan or
        # quarantined. Listed (never their content) so the package says what it left out.
        "excluded": [
            {
                "control": row.control,
                "evidence_item": row.item,
                "version": row.version,
                "scan_state": row.scan_state,
                "reason": row.reason,
            }
            for row in content.withheld
        ],
    }
    total = max(1, len(content.evidence))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n, row in enumerate(content.evidence):
            if row.kind == EvidenceKind.FILE:
                # As downloads are: named for the detected type, never a program's extension.
                stem, _, ext = download_name(row.name, row.content_type).rpartition(".")
                base = f"{_safe(stem)}.{_safe(ext, 16)}"
            else:
                base = row.kind
            ext = {"link": ".url.txt", "data": ".json", "system": ".json"}.get(row.kind, "")
            arcname = f"evidence/{_safe(row.control, 30)}/{n + 1:05d}-v{row.version}-{base}{ext}"
            digest, size = hashlib.sha256(), 0
            how, source = _content(row, data_records)
            with archive.open(arcname, "w") as target:
                if how == "file":
                    with default_storage.open(source, "rb") as handle:
                        for block in iter(lambda h=handle: h.read(1 << 20), b""):
                            digest.update(block)
                            size += len(block)
                            target.write(block)
                else:
                    digest.update(source)
                    size = len(source)
                    target.write(source)
            packed = digest.hexdigest()
            manifest["files"].append(
                {
                    "path": arcname,
                    "control": row.control,
                    "evidence_item": row.item,
                    "name": row.name,
                    "kind": row.kind,
                    "version": row.version,
                    "effective_start": row.effective_start.isoformat(),
                    "effective_end": row.effective_end.isoformat(),
                    "valid_until": row.valid_until.isoformat(),
                    "review_state": row.review_state,
                    "reviewed_by": row.reviewed_by or None,
                    "size": size,
                    "sha256": row.sha256,
                    "sha256_matches": packed == row.sha256,
                }
            )
            if progress and n % 50 == 0:
                progress(10 + 80 * n // total)
        archive.writestr(
            "evidence_index.csv", csv_bytes(EVIDENCE_HEADER, evidence_rows(content.evidence))
        )
        archive.writestr(
            "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        )
