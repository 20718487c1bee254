"""A table as a download, CSV or XLSX: the one response of the register and inventory exports
(risks, vendors) on the managers' pages, in the API and in the auditor portal.

Cells are guarded as the report exports guard them (``reports.rendering.exports``): a CSV
cell a spreadsheet would run as a formula gets a leading apostrophe, an XLSX text cell is
written as text. The rows are read before the response is returned (a fixed number of
queries, inside the request's tenant scope); the CSV is then streamed line by line, the XLSX
written once in memory (a workbook cannot be streamed before its sheets are complete).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from reports.rendering.exports import neutralise, write_sheet

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Table:
    """A sheet: its title, header and rows (dates stay dates: real dates in XLSX)."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


def export_format(raw: object) -> str | None:
    """``csv`` or ``xlsx`` from a query parameter; None for anything else."""
    value = str(raw or "").lower()
    return value if value in FORMATS else None


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return neutralise(value)


def csv_lines(table: Table) -> Iterator[bytes]:
    """The CSV, one encoded line at a time, with a byte order mark first so that spreadsheet
    programs read UTF-8."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)

    def line(values: Sequence[Any]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_value(v) for v in values])
        return buffer.getvalue().encode("utf-8")

    yield "\ufeff".encode() + line(table.header)
    for row in table.rows:
        yield line(row)


def xlsx_bytes(table: Table) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    rows = [["yes" if v is True else "no" if v is False else v for v in r] for r in table.rows]
    write_sheet(book, table.title[:31], table.header, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_response(table: Table, fmt: str, filename_stem: str) -> HttpResponseBase:
    """``table`` as an attachment named ``<filename_stem>.<fmt>``."""
    if fmt == XLSX:
        response: HttpResponseBase = HttpResponse(
            xlsx_bytes(table), content_type=CONTENT_TYPES[XLSX]
        )
    else:
        response = StreamingHttpResponse(csv_lines(table), content_type=CONTENT_TYPES[CSV])
    response["Content-Disposition"] = content_disposition_header(True, f"{filename_stem}.{fmt}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
