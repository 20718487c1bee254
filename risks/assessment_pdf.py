"""The risk assessment's PDF, rendered by the reports worker from the frozen rows: the summary,
the inherent and residual heat maps (the same SVG as the heat-map page, built from the frozen
rows and matrix), the register table (a row never split across pages) and "Page X of Y".

``assessment_render`` is the task's work. Idempotent under ``acks_late``: an assessment that is
ready (or gone) is left alone; two deliveries rendering at once both store a file, and only
the one whose conditional UPDATE (still rendering) matched keeps it, the other deletes its own.
A render that raises fails the assessment with the reason (Retry sends it again); a lost
database connection propagates so the task retries.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from django.template.loader import render_to_string

from reports.rendering.fetcher import StaticOnlyFetcher
from reports.rendering.pdf import weasy_render
from risks import assessment_rows
from risks.assessment import storage_key
from risks.models import AssessmentStatus, RiskAssessment
from tenants.activity import Actor, activity_record
from tenants.context import org_scope

logger = logging.getLogger(__name__)

RENDERER = "Risk assessment PDF"


def assessment_context(assessment: RiskAssessment) -> dict:
    """What the PDF (and the detail page's summary) shows, from the frozen data only."""
    summary = assessment.summary
    return {
        "assessment": assessment,
        "level_rows": assessment_rows.level_rows(summary),
        "treatment_rows": assessment_rows.treatment_rows(summary),
        "grids": assessment_rows.frozen_grids(assessment.rows, summary),
    }


def pdf_bytes(assessment: RiskAssessment, organization_name: str) -> bytes:
    html = render_to_string(
        "risks/assessment_pdf.html",
        {
            **assessment_context(assessment),
            "organization_name": organization_name,
            "rows": assessment_rows.display(assessment.rows),
        },
    )
    fetcher = StaticOnlyFetcher(settings.REPORT_ASSET_DIR)
    return weasy_render(html, fetcher).write_pdf()


def _fail(org_id: int, assessment: RiskAssessment, reason: str) -> None:
    with transaction.atomic():
        changed = (
            RiskAssessment.objects.for_org(org_id)
            .filter(pk=assessment.pk, status=AssessmentStatus.RENDERING)
            .update(status=AssessmentStatus.FAILED, error=reason[:500])
        )
        if changed:
            activity_record(
                organization=assessment.organization,
                actor=Actor.system(RENDERER),
                action="risk_assessment.pdf_failed",
                target=assessment,
                changes={"error": [None, reason[:200]]},
            )


def assessment_render(assessment_id: int, org_id: int) -> str:
    """Render and store the PDF of one assessment; returns its status afterwards."""
    with org_scope(org_id):
        assessment = (
            RiskAssessment.objects.for_org(org_id)
            .select_related("organization")
            .filter(pk=assessment_id)
            .first()
        )
        if assessment is None:
            return "missing"
        if assessment.status != AssessmentStatus.RENDERING:
            return assessment.status  # done already (a second delivery), or failed: Retry
        try:
            content = pdf_bytes(assessment, assessment.organization.name)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            logger.exception("risk assessment %s: the PDF failed", assessment_id)
            _fail(org_id, assessment, f"The PDF could not be rendered: {exc}")
            return AssessmentStatus.FAILED
        key = default_storage.save(storage_key(org_id, "pdf"), ContentFile(content))
        sha256 = hashlib.sha256(content).hexdigest()
        try:
            with transaction.atomic():
                kept = (
                    RiskAssessment.objects.for_org(org_id)
                    .filter(pk=assessment_id, status=AssessmentStatus.RENDERING, pdf_file="")
                    .update(
                        status=AssessmentStatus.READY,
                        pdf_file=key,
                        pdf_sha256=sha256,
                        pdf_size=len(content),
                        error="",
                    )
                )
                if kept:
                    activity_record(
                        organization=assessment.organization,
                        actor=Actor.system(RENDERER),
                        action="risk_assessment.pdf_ready",
                        target=assessment,
                        changes={"pdf_sha256": [None, sha256], "pdf_size": [None, len(content)]},
                    )
        except BaseException:
            default_storage.delete(key)
            raise
        if not kept:  # another delivery finished first: keep its file, not this one
            default_storage.delete(key)
        return AssessmentStatus.READY
