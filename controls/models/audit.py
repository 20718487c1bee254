"""Audits: their type, scope and dates, the self-assessment, and readiness snapshots."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from criteria.models import Category, Criterion, Framework
from tenants.scoping import TenantModel


class AuditType(models.TextChoices):
    TYPE1 = "type1", "Type 1 (design at a date)"
    TYPE2 = "type2", "Type 2 (operating effectiveness over a period)"


class AuditStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    READINESS = "readiness", "Readiness"
    FIELDWORK = "fieldwork", "Fieldwork"
    COMPLETED = "completed", "Completed"


class Audit(TenantModel):
    name = models.CharField(max_length=120)
    audit_type = models.CharField(max_length=8, choices=AuditType.choices)
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="+")
    # Type 1: the date the design is assessed at. Type 2: the observation window.
    as_of_date = models.DateField(null=True, blank=True)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=AuditStatus.choices, default=AuditStatus.PLANNING
    )
    cpa_firm = models.CharField(max_length=160, blank=True)
    fieldwork_start = models.DateField(null=True, blank=True)
    fieldwork_end = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(audit_type="type1") & Q(as_of_date__isnull=False))
                | (
                    Q(audit_type="type2")
                    & Q(window_start__isnull=False)
                    & Q(window_end__isnull=False)
                    & Q(window_end__gt=F("window_start"))
                ),
                name="audit_dates_match_type",
            ),
            models.CheckConstraint(
                condition=Q(fieldwork_start__isnull=True)
                | Q(fieldwork_end__isnull=True)
                | Q(fieldwork_end__gte=F("fieldwork_start")),
                name="audit_fieldwork_order",
            ),
            models.UniqueConstraint(fields=["organization", "name"], name="audit_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_type2(self) -> bool:
        return self.audit_type == AuditType.TYPE2

    @property
    def period_label(self) -> str:
        if self.is_type2:
            return f"{self.window_start:%d %b %Y} – {self.window_end:%d %b %Y}"
        return f"as of {self.as_of_date:%d %b %Y}"


class AuditCategory(TenantModel):
    """A Trust Services Category in the audit's scope (Security is always added)."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="scope_categories")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "audit", "category"], name="audit_category_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.audit_id}: {self.category_id}"


class AuditSystem(TenantModel):
    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="scope_systems")
    system = models.ForeignKey("controls.System", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "audit", "system"], name="audit_system_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.audit_id}: {self.system_id}"


class Answer(models.TextChoices):
    IN_PLACE = "in_place", "In place"
    PARTLY = "partly", "Partly in place"
    NOT_IN_PLACE = "not_in_place", "Not in place"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class SelfAssessmentAnswer(TenantModel):
    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=16, choices=Answer.choices)
    notes = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "audit", "criterion"], name="answer_unique_criterion"
            ),
            models.CheckConstraint(
                condition=~Q(answer="not_applicable") | ~Q(notes=""), name="answer_na_needs_notes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.audit_id} {self.criterion_id}: {self.answer}"


class ReadinessSnapshot(TenantModel):
    """Readiness of an audit on a day, kept so the dashboard can say what changed."""

    audit = models.ForeignKey(Audit, on_delete=models.CASCADE, related_name="snapshots")
    taken_on = models.DateField()
    score = models.DecimalField(max_digits=5, decimal_places=1)
    met = models.PositiveIntegerField()
    partial = models.PositiveIntegerField()
    gap = models.PositiveIntegerField()
    statuses = models.JSONField(default=dict, help_text="criterion ref -> status")

    class Meta:
        ordering = ["-taken_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "audit", "taken_on"], name="snapshot_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.audit_id} {self.taken_on}: {self.score}"
