"""Running the periodic risk assessment (CC3.1-CC3.4), and retrying its PDF.

``assessment_run``, in one transaction:
* managers only (``Action.RISK_MANAGE``: owners, admins, compliance managers and their keys);
* dated today or earlier (refused in the future), and not before the latest assessment (a
  correction is a new assessment, never an edit);
* the register is frozen into ``rows`` (``risks.assessment_rows``: a constant number of
  queries whatever its size) with the summary counts and the matrix;
* the CSV is stored (random key under ``risks/<org>/assessments/``) with its SHA-256 and size;
* ``next_due`` = the day + the matrix's ``assessment_interval_days`` (a year by default);
* every control of the organization mapped to CC3.1-CC3.4 gets one system-generated evidence
  version (source ``risks:assessment``), effective on the day, whose raw output is the CSV (so
  it is accepted when written), current until ``next_due``: it then turns expiring, then
  stale, and readiness stops counting it once the next assessment is overdue;
* one activity entry.
After commit the PDF is rendered by a Celery task on the reports queue (``risks.tasks``).
Refused input stores nothing (a CSV stored before a failure is removed again).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from controls.selectors import controls_mapped_to
from evidence.models import EvidenceVersion
from evidence.system import SystemRecord, SystemSource, system_evidence_record
from risks import assessment_rows
from risks import matrix as matrices
from risks.models import AssessmentStatus, RiskAssessment, RiskMatrix
from soc2app.errors import Conflict, NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership
from tenants.permissions import Action

logger = logging.getLogger(__name__)

CRITERIA = ("CC3.1", "CC3.2", "CC3.3", "CC3.4")
SOURCE_KEY = "risks:assessment"
REVIEWER = "Risks: assessment recorded by the app"
NOTES_MAX = 5000
# A PDF still "rendering" this long after the run is stuck (its task was lost): Retry may
# send it again (a task still at it finds the row taken and keeps nothing twice).
STUCK_AFTER = dt.timedelta(minutes=15)
BROKER_DOWN = (
    "The task queue could not be reached, so the PDF has not started. Press Retry in a "
    "minute; if it keeps failing, ask your administrator to check the worker."
)


def storage_key(org_id: int, extension: str) -> str:
    # A random key: nothing user-controlled reaches the storage backend.
    return f"risks/{org_id}/assessments/{uuid.uuid4().hex}.{extension}"


def assessment_source(interval_days: int) -> SystemSource:
    return SystemSource(
        key=SOURCE_KEY,
        item_title="Risk assessment",
        reviewer_label=REVIEWER,
        current_days=interval_days,
        description=(
            "Written by the app when the periodic risk assessment is run: the register frozen "
            "on that day (every risk's scores, levels, treatment, acceptance and controls) as "
            "CSV, whose SHA-256 is recorded, and the summary counts. Current until the next "
            "assessment is due."
        ),
    )


def evidence_data(assessment: RiskAssessment) -> dict[str, Any]:
    summary = {k: v for k, v in assessment.summary.items() if k != "matrix"}
    return {
        "source": "risk-assessment",
        "assessment": assessment.pk,
        "performed_on": assessment.performed_on.isoformat(),
        "performed_by": assessment.performed_by_label,
        "risk_count": assessment.risk_count,
        "next_due": assessment.next_due.isoformat(),
        "csv_sha256": assessment.csv_sha256,
        "summary": summary,
    }


def _check_day(org_id: int, performed_on: Any, today: dt.date) -> dt.date:
    if not isinstance(performed_on, dt.date) or isinstance(performed_on, dt.datetime):
        raise ValidationFailed("Give the date of the assessment.", field="performed_on")
    if performed_on > today:
        raise ValidationFailed(
            "The assessment cannot be dated in the future: run it on the day it is done.",
            field="performed_on",
        )
    latest = (
        RiskAssessment.objects.for_org(org_id)
        .order_by("-performed_on")
        .values_list("performed_on", flat=True)
        .first()
    )
    if latest is not None and performed_on < latest:
        raise ValidationFailed(
            f"The latest assessment is dated {latest:%d %b %Y}: date this one on or after it.",
            field="performed_on",
        )
    return performed_on


def assessment_run(
    *, membership: Membership, performed_on: dt.date | None = None, notes: str = ""
) -> RiskAssessment:
    """Freeze the register, store its CSV, record the evidence on the CC3.x controls."""
    permissions.require(membership, Action.RISK_MANAGE)
    org = membership.organization
    today = timezone.localdate()
    notes = str(notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise ValidationFailed(f"Keep the notes under {NOTES_MAX} characters.", field="notes")
    actor = Actor.for_principal(membership)
    stored = ""
    try:
        with transaction.atomic():
            # One run at a time per organization (the date check below sees the other's row),
            # and the register frozen on the matrix that holds: no risk or matrix changes
            # until this run commits.
            matrix = matrices.matrix_locked(org)
            day = _check_day(org.pk, performed_on or today, today)
            rows = assessment_rows.freeze(org, matrix, day)
            content = assessment_rows.csv_content(rows)
            stored = default_storage.save(storage_key(org.pk, "csv"), ContentFile(content))
            assessment = RiskAssessment.objects.create(
                organization=org,
                performed_on=day,
                performed_by=None if getattr(membership, "is_api_key", False) else membership,
                performed_by_label=actor.label[:200],
                notes=notes,
                rows=rows,
                summary=assessment_rows.summarize(rows, matrix),
                risk_count=len(rows),
                csv_file=stored,
                csv_sha256=hashlib.sha256(content).hexdigest(),
                csv_size=len(content),
                status=AssessmentStatus.RENDERING,
                next_due=day + dt.timedelta(days=matrix.assessment_interval_days),
            )
            versions = _record_evidence(assessment, matrix)
            activity_record(
                organization=org,
                actor=actor,
                action="create",
                target=assessment,
                changes={
                    "performed_on": [None, day.isoformat()],
                    "risks": [None, len(rows)],
                    "next_due": [None, assessment.next_due.isoformat()],
                    "csv_sha256": [None, assessment.csv_sha256],
                    "evidence_controls": [None, len(versions)],
                },
            )
            transaction.on_commit(lambda: assessment_enqueue(assessment.pk, org.pk))
    except BaseException:
        if stored:
            default_storage.delete(stored)
        raise
    return assessment


def _record_evidence(assessment: RiskAssessment, matrix: RiskMatrix) -> list[EvidenceVersion]:
    """One version on each control mapped to CC3.1-CC3.4 (none when nothing maps)."""
    controls = controls_mapped_to(assessment.organization_id, CRITERIA)
    if not controls:
        return []
    data = evidence_data(assessment)
    return system_evidence_record(
        organization=assessment.organization,
        source=assessment_source(matrix.assessment_interval_days),
        records=[SystemRecord(control=c, data=data) for c in controls],
        day=assessment.performed_on,
        actor=Actor.system(REVIEWER),
        raw_sha256=assessment.csv_sha256,
        raw_size=assessment.csv_size,
        raw_storage_name=assessment.csv_file,
        object_repr=f"Risk assessment of {assessment.performed_on.isoformat()}",
    )


def assessment_enqueue(assessment_id: int, org_id: int) -> bool:
    """Send the PDF task; when the broker is down, say so on the row (still rendering)."""
    from risks.tasks import render_assessment_pdf

    try:
        render_assessment_pdf.delay(assessment_id, org_id)
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning("risk assessment %s not enqueued: %s", assessment_id, exc)
        RiskAssessment.objects.for_org(org_id).filter(
            pk=assessment_id, status=AssessmentStatus.RENDERING
        ).update(error=BROKER_DOWN)
        return False
    return True


def assessment_retry(*, membership: Membership, assessment: RiskAssessment) -> RiskAssessment:
    """Render the PDF again: a failed one, or one stuck "rendering" past ``STUCK_AFTER``."""
    permissions.require(membership, Action.RISK_MANAGE)
    org_id = membership.organization_id
    if assessment.organization_id != org_id:
        raise NotFound("No such risk assessment.")
    stuck = timezone.now() - STUCK_AFTER
    rows = RiskAssessment.objects.for_org(org_id).filter(pk=assessment.pk)
    with transaction.atomic():
        changed = rows.filter(status=AssessmentStatus.FAILED).update(
            status=AssessmentStatus.RENDERING, error=""
        ) or rows.filter(
            status=AssessmentStatus.RENDERING, created_at__lt=stuck, pdf_file=""
        ).update(error="")
        if not changed:
            raise Conflict("The PDF is being rendered or is ready: there is nothing to retry.")
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="risk_assessment.retry",
            target=assessment,
        )
        transaction.on_commit(lambda: assessment_enqueue(assessment.pk, org_id))
    assessment.refresh_from_db()
    return assessment
