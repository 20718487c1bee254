"""The acceptance export as CSV: one layout for the managers' acceptance page and the auditor
portal (which adds the consent sentence and the user agent), cells neutralised against
spreadsheet formulas by ``csv_bytes``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.http import HttpResponse

from reports.rendering.exports import csv_bytes

CSV_HEADER = [
    "Name",
    "E-mail",
    "Department",
    "Policy",
    "Version",
    "Accepted at",
    "Channel",
    "IP address",
    "Text SHA-256",
]


def acceptance_csv_response(
    rows: Iterable[Sequence[object]], filename: str, extra_header: Sequence[str] = ()
) -> HttpResponse:
    """``rows`` in ``CSV_HEADER``'s order, then ``extra_header``'s, as an attachment."""
    body = csv_bytes([*CSV_HEADER, *extra_header], rows)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
