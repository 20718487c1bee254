"""Deviations: a manager's record of a control that did not operate in a period, with the
management response (cause, remediation), as a SOC 2 report's management response shows it."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from tenants.scoping import TenantModel


class Deviation(TenantModel):
    control = models.ForeignKey(
        "controls.Control", on_delete=models.CASCADE, related_name="deviations"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    what_happened = models.TextField()
    cause = models.TextField()
    remediation = models.TextField()
    remediation_date = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["period_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="deviation_period_order"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "control"], name="deviation_org_control"),
        ]

    def __str__(self) -> str:
        return f"{self.control_id} {self.period_start}–{self.period_end}"

    @property
    def period_label(self) -> str:
        return f"{self.period_start:%d %b %Y} – {self.period_end:%d %b %Y}"
