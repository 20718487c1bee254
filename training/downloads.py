"""A training completion's certificate as a download: the one response of the managers'
training page and the auditor portal, served like evidence files
(``evidence.side_files.side_file_response``)."""

from __future__ import annotations

from django.http import FileResponse

from evidence.side_files import side_file_response
from training.models import TrainingCompletion


def certificate_response(completion: TrainingCompletion) -> FileResponse:
    """Raises ``Http404`` when the file is missing from storage."""
    return side_file_response(
        completion.certificate.name,
        completion.certificate_name or "certificate",
        completion.certificate_type,
        "The certificate",
    )
