"""Files kept beside evidence (a training certificate, a vendor's SOC 2 report): checked by
the evidence upload rules (``check_upload``), scanned by ClamAV when configured, then stored
under a random key. One place, so every such upload is refused for the same reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage

from soc2app.errors import ValidationFailed


@dataclass(frozen=True)
class StoredFile:
    key: str
    name: str
    content_type: str
    size: int
    sha256: str


def store_side_file(
    upload: Any,
    *,
    key: Callable[[str], str],
    field: str,
    what: str,
    without: str,
    max_bytes: int | None = None,
) -> StoredFile:
    """Check ``upload`` as evidence uploads are checked, scan it, store it at ``key(name)``.
    A refusal is a ``ValidationFailed`` on ``field``; ``what`` names the file ("The
    certificate") and ``without`` says what else to do while the scanner is down."""
    from evidence.validation import UploadRejected, check_upload

    try:
        checked = check_upload(
            upload, name=getattr(upload, "name", "") or field, max_bytes=max_bytes
        )
    except UploadRejected as exc:
        raise ValidationFailed(exc.message, field=field, code=exc.code) from exc
    _scan(upload, field=field, what=what, without=without)
    stored = default_storage.save(key(checked.safe_name), upload)
    return StoredFile(
        stored, checked.safe_name[:200], checked.content_type[:120], checked.size, checked.sha256
    )


def _scan(upload: Any, *, field: str, what: str, without: str) -> None:
    """ClamAV, when configured, before anything is stored: an infected file is refused; with
    the scanner unreachable the person is asked to try later (such a file has no pending
    state)."""
    from evidence.scanning import (
        INFECTED_MESSAGE,
        ScannerUnavailable,
        scan_upload,
        scanner_configured,
    )

    if not scanner_configured():
        return
    try:
        result = scan_upload(upload)
    except ScannerUnavailable as exc:
        raise ValidationFailed(
            f"{what} cannot be checked for malware right now: try again in a few minutes, "
            f"or {without}.",
            field=field,
            code="scanner_unavailable",
        ) from exc
    finally:
        upload.seek(0)
    if result.infected:
        raise ValidationFailed(
            INFECTED_MESSAGE.format(signature=result.signature), field=field, code="infected"
        )


def side_file_response(key: str, name: str, content_type: str, what: str) -> Any:
    """The stored file as a download, served like evidence files (an attachment named for what
    the bytes are, ``nosniff``, a sandboxing Content-Security-Policy, never cached). Raises
    ``Http404`` when the file is missing from storage."""
    from django.http import FileResponse, Http404

    from evidence.downloads import DOWNLOAD_CSP, content_disposition
    from evidence.filenames import download_name

    try:
        handle = default_storage.open(key, "rb")
    except OSError:
        raise Http404(f"{what} is missing from storage.") from None
    response = FileResponse(handle, content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition(
        download_name(name or "file", content_type)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    return response
