"""The risk register and the vendor inventory as the auditor portal reads them, for one granted
audit: who may open these pages, the organization's risk assessments and the files of one.

The register and the inventory are the organization's current ones (the audit asks how risks
and vendors are managed now); each risk assessment carries the date it was performed, so the
pages mark those after the audit's period end. Every read is a fixed number of queries; another
audit's or organization's row is "not found" (``Http404``) like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from controls.models import Audit
from reports import selectors
from reports.selectors_portal_people import audit_period_end
from risks.models import AssessmentStatus, RiskAssessment
from tenants import permissions
from tenants.models import Membership, Role
from tenants.permissions import Action


def sees_register(membership: Membership, action: Action) -> bool:
    """Auditors (on their granted audits) and, as a preview, the members who manage the
    register (``action``: ``RISK_MANAGE`` or ``VENDOR_MANAGE``)."""
    return membership.role == Role.AUDITOR or permissions.can(membership, action)


def register_audit(membership: Membership, audit_pk: object, action: Action) -> Audit:
    """A granted audit of an auditor membership, or any audit for a manager's preview;
    "not found" for anyone else (a contributor included)."""
    if not sees_register(membership, action):
        raise Http404("No such audit.")
    return selectors.portal_audit_get(membership, audit_pk)


def _pk(value: object, what: str) -> int:
    text = str(value)
    pk = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0
    if pk <= 0:
        raise Http404(f"No such {what}.")
    return pk


def assessments(audit: Audit) -> QuerySet[RiskAssessment]:
    """The organization's risk assessments, newest first (one query; the frozen rows are
    left in the database: only the summary is shown)."""
    return (
        RiskAssessment.objects.for_org(audit.organization_id)
        .defer("rows")
        .order_by("-performed_on", "-id")
    )


def assessment_get(audit: Audit, pk: object) -> RiskAssessment:
    found = assessments(audit).filter(pk=_pk(pk, "risk assessment")).first()
    if found is None:
        raise Http404("No such risk assessment.")
    return found


@dataclass(frozen=True)
class AssessmentFile:
    key: str
    name: str
    content_type: str
    sha256: str


ASSESSMENT_FILES = {"csv": "text/csv", "pdf": "application/pdf"}


def assessment_file(assessment: RiskAssessment, kind: str) -> AssessmentFile:
    """The assessment's CSV or PDF; "not found" while it has none (a PDF still rendering)."""
    key = getattr(assessment, f"{kind}_file", "") if kind in ASSESSMENT_FILES else ""
    if kind == "pdf" and assessment.status != AssessmentStatus.READY:
        key = ""  # rendering, or failed: nothing an auditor should take away
    if not key:
        raise Http404("This file is not available.")
    return AssessmentFile(
        key=key,
        name=f"risk-assessment-{assessment.performed_on:%Y-%m-%d}.{kind}",
        content_type=ASSESSMENT_FILES[kind],
        sha256=getattr(assessment, f"{kind}_sha256"),
    )


def after_period(audit: Audit, assessment: RiskAssessment) -> bool:
    return assessment.performed_on > audit_period_end(audit)


SUMMARY_LABELS = {
    "inherent": "Inherent",
    "residual": "Residual",
    "treatment": "Treatment",
    "acceptances_expired": "Acceptances expired",
    "reviews_overdue": "Reviews overdue",
}


def summary_lines(summary: dict) -> list[str]:
    """An assessment's summary counts as short lines ("Residual: high 1, low 3"), the
    non-zero counts of each group; the matrix it was read on is left out."""
    lines = []
    for key, label in SUMMARY_LABELS.items():
        value = summary.get(key)
        if isinstance(value, dict):
            counts = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in value.items() if n)
            if counts:
                lines.append(f"{label}: {counts}")
        elif value:
            lines.append(f"{label}: {value}")
    return lines
