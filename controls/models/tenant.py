"""An organization's systems and controls, and how controls map to criteria."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from controls.models.library import ControlTemplate, ControlType, Frequency, Operation
from criteria.models import Criterion
from tenants.scoping import TenantModel


class System(TenantModel):
    """A system in an audit's scope (a product, a platform), with its components."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    components = models.JSONField(default=list, blank=True, help_text="Names of its components.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="system_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ControlStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    IMPLEMENTED = "implemented", "Implemented"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class Control(TenantModel):
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    control_type = models.CharField(max_length=16, choices=ControlType.choices)
    frequency = models.CharField(max_length=16, choices=Frequency.choices)
    # Default from the type (controls/data/frequency_rules.yaml); the manager can change it.
    operation = models.CharField(max_length=10, choices=Operation.choices, default=Operation.MANUAL)
    owner = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=ControlStatus.choices, default=ControlStatus.NOT_STARTED
    )
    na_justification = models.TextField(blank=True)
    template = models.ForeignKey(
        ControlTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    evidence_guidance = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True, help_text="When it should be implemented.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="control_unique_code"),
            models.CheckConstraint(
                condition=~Q(status="not_applicable") | ~Q(na_justification=""),
                name="control_na_needs_justification",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ControlStatus.values), name="control_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(operation__in=Operation.values), name="control_operation_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status"], name="control_org_status"),
            models.Index(fields=["organization", "owner"], name="control_org_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_applicable(self) -> bool:
        return self.status != ControlStatus.NOT_APPLICABLE


class ControlCriterion(TenantModel):
    """A control helps satisfy a criterion (of the global catalog)."""

    control = models.ForeignKey(Control, on_delete=models.CASCADE, related_name="mappings")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "control", "criterion"], name="control_criterion_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "criterion"], name="mapping_org_criterion"),
        ]

    def __str__(self) -> str:
        return f"{self.control_id} -> {self.criterion_id}"
