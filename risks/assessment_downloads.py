"""An assessment's stored CSV or PDF as a download, the one response of its page and the API:
an attachment named for the assessment, ``nosniff`` and the sandboxing CSP of every stored
file the app serves (``evidence.downloads``), and one activity entry per download."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse

from evidence.downloads import DOWNLOAD_CSP, content_disposition
from risks.models import AssessmentStatus, RiskAssessment
from soc2app.errors import Conflict, NotFound
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership
from tenants.permissions import Action

FILES = {
    "csv": ("csv_file", "csv_sha256", "text/csv; charset=utf-8"),
    "pdf": ("pdf_file", "pdf_sha256", "application/pdf"),
}


def download_name(assessment: RiskAssessment, kind: str) -> str:
    return f"risk-assessment-{assessment.performed_on.isoformat()}.{kind}"


def assessment_file_response(
    assessment: RiskAssessment, kind: str, *, membership: Membership
) -> FileResponse:
    """The CSV or the PDF; a PDF still rendering (or failed) is a conflict, a file storage lost "not found"."""
    permissions.require(membership, Action.RISK_MANAGE)
    if kind not in FILES:
        raise NotFound("No such file.")
    field, sha_field, content_type = FILES[kind]
    name = getattr(assessment, field)
    if not name or (kind == "pdf" and assessment.status != AssessmentStatus.READY):
        raise Conflict(
            "The PDF of this assessment is not ready: wait until its status is ready "
            "(or retry a failed one), then download it.",
            code="not_ready",
        )
    try:
        handle = default_storage.open(name, "rb")
    except OSError:
        raise NotFound("The file of this assessment is missing from storage.") from None
    response = FileResponse(handle, content_type=content_type)
    try:
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="risk_assessment.download",
            target=assessment,
            changes={"file": [None, kind], "sha256": [None, getattr(assessment, sha_field)]},
        )
    except BaseException:
        response.close()
        raise
    response["Content-Disposition"] = content_disposition(download_name(assessment, kind))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    return response
