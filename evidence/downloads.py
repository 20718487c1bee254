"""A file or data version as a download: the one response of the evidence page and the API.

Sent as an attachment with ``nosniff`` and a sandboxing Content-Security-Policy, and named for
what the bytes are (``evidence/filenames.py``): a PDF stored as ``evidence.bat`` before names
were checked downloads as ``evidence.pdf``; the evidence package names its files the same way.
"""

from __future__ import annotations

from urllib.parse import quote

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.utils.text import slugify

from evidence import services
from evidence.filenames import download_name
from evidence.models import DATA_KINDS, EvidenceKind, EvidenceVersion, ScanState
from soc2app.errors import Conflict, NotFound
from tenants.models import Membership

DOWNLOAD_CSP = "default-src 'none'; sandbox"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name as RFC 6266 filename*."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback or 'evidence'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def version_download_name(version: EvidenceVersion) -> str:
    if version.kind == EvidenceKind.FILE:
        return download_name(version.original_name or "evidence", version.content_type)
    stem = slugify(version.item.title)[:80] or "evidence"
    return f"{stem}-v{version.number}.json" if version.kind in DATA_KINDS else stem


def version_file_response(
    version: EvidenceVersion,
    *,
    membership: Membership,
    client_ip: str | None = None,
    record: bool = True,
) -> HttpResponse:
    """A file or data version's bytes as an attachment; the download is recorded in the
    activity log with the client's address (unless ``record`` is false: a HEAD). Links have
    no bytes: Conflict."""
    if version.kind == EvidenceKind.LINK:
        raise Conflict(
            "A link has no file to download: the evidence lives at its url.", code="no_file"
        )
    response: HttpResponse
    if version.kind == EvidenceKind.FILE:
        if not version.is_deliverable:
            raise Conflict(
                "This file was quarantined: the malware scan found a threat."
                if version.scan_state == ScanState.INFECTED
                else "This file is waiting for its malware scan; try again in a few minutes."
            )
        try:
            handle = default_storage.open(version.file.name, "rb")
        except (FileNotFoundError, OSError):
            raise NotFound("The file of this evidence is missing from storage.") from None
        response = FileResponse(
            handle, content_type=version.content_type or "application/octet-stream"
        )
    else:
        response = HttpResponse(
            services.canonical_json(version.data), content_type="application/json"
        )
    if record:
        try:
            services.evidence_download_record(
                membership=membership, version=version, client_ip=client_ip
            )
        except BaseException:
            response.close()  # releases the storage file handle
            raise
    response["Content-Disposition"] = content_disposition(version_download_name(version))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    return response
