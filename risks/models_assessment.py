"""The periodic risk assessment as an event (CC3.1-CC3.4).

Running it freezes the register: ``rows`` hold every risk as it stood (title, category, owner,
scores, levels, treatment, acceptance, controls, systems); the CSV (written at once) and the
PDF (rendered by the reports worker from the frozen rows, so it shows the same register however
late it is rendered) are stored with their SHA-256 and size. The assessment is then recorded as
system-generated evidence on the organization's controls mapped to CC3.x, effective on
``performed_on`` and current until ``next_due`` (``risks.assessment``). Never edited after it is
run: a correction is the next assessment.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import TenantModel


class AssessmentStatus(models.TextChoices):
    RENDERING = "rendering", "Rendering the PDF"
    READY = "ready", "Ready"
    FAILED = "failed", "PDF failed"


class RiskAssessment(TenantModel):
    performed_on = models.DateField()
    performed_by = models.ForeignKey(
        "tenants.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    performed_by_label = models.CharField(max_length=200, blank=True)
    notes = models.TextField(max_length=5000, blank=True)
    # The frozen register: one dict per risk, and counts (by level, inherent and residual; by
    # treatment; acceptances expired; reviews overdue) for the summary.
    rows = models.JSONField(default=list)
    summary = models.JSONField(default=dict)
    risk_count = models.PositiveIntegerField(default=0)
    csv_file = models.CharField(max_length=300, blank=True)
    csv_sha256 = models.CharField(max_length=64, blank=True)
    csv_size = models.PositiveBigIntegerField(default=0)
    pdf_file = models.CharField(max_length=300, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.RENDERING
    )
    error = models.CharField(max_length=500, blank=True)
    # When the next one is due (performed_on + the organization's interval, yearly by default).
    next_due = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-performed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AssessmentStatus.values), name="risk_assessment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(next_due__gt=models.F("performed_on")),
                name="risk_assessment_due_after",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-performed_on"], name="risk_assessment_org_day")
        ]

    def __str__(self) -> str:
        return f"Risk assessment of {self.performed_on}"
