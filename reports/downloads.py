"""A finished report's file as a download: the one response of the reports page, the portal
and the API (each says "not found" in its own way when the file is missing)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import FileResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from reports.models import Report, ReportKind

# The file is never a page of ours: no scripts, no plugins, even if a browser sniffs HTML.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


class MissingFile(Exception):
    """The report's file is not in storage."""


def download_name(report: Report) -> str:
    stamp = report.created_at.strftime("%Y%m%d-%H%M")
    name = slugify(report.audit.name)[:60] or "audit"
    suffix = {ReportKind.CSV: "-controls", ReportKind.EVIDENCE_CSV: "-evidence"}.get(
        report.kind, ""
    )
    return f"{name}-{report.kind.replace('_', '-')}{suffix}-{stamp}.{report.extension}"


def report_file_response(report: Report, record: Callable[[], object] | None) -> FileResponse:
    """The file as an attachment; ``record`` (the download's log entry) runs once the file is
    open, and a failure there closes it again. Raises ``MissingFile``."""
    try:
        handle = report.file.open("rb")
    except OSError as exc:  # FileNotFoundError included
        raise MissingFile from exc
    response = FileResponse(handle, content_type=report.content_type)
    if record is not None:
        try:
            record()
        except BaseException:
            response.close()
            raise
    response["Content-Disposition"] = content_disposition_header(True, download_name(report))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    return response
