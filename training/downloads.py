"""A training completion's certificate as a download: the one response of the managers'
training page and the auditor portal, served like evidence files (an attachment named for what
the bytes are, ``nosniff``, a sandboxing Content-Security-Policy, never cached)."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from evidence.downloads import DOWNLOAD_CSP, content_disposition
from evidence.filenames import download_name
from training.models import TrainingCompletion


def certificate_response(completion: TrainingCompletion) -> FileResponse:
    """Raises ``Http404`` when the file is missing from storage."""
    try:
        handle = default_storage.open(completion.certificate.name, "rb")
    except OSError:
        raise Http404("The certificate is missing from storage.") from None
    response = FileResponse(
        handle, content_type=completion.certificate_type or "application/octet-stream"
    )
    name = download_name(completion.certificate_name or "certificate", completion.certificate_type)
    response["Content-Disposition"] = content_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    return response
