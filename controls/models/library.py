"""The control library: ready-made control templates (global reference data, read-only)."""

from __future__ import annotations

from django.db import models

from criteria.models import Criterion, Framework


class ControlType(models.TextChoices):
    POLICY = "policy", "Policy"
    PROCEDURAL = "procedural", "Procedural"
    TECHNICAL = "technical", "Technical"


class Frequency(models.TextChoices):
    CONTINUOUS = "continuous", "Continuous"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMI_ANNUAL = "semi_annual", "Semi-annual"
    ANNUAL = "annual", "Annual"
    ON_EVENT = "on_event", "On event"


class ControlLibrary(models.Model):
    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=40)
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="libraries")
    source_file = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "control libraries"

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ControlTemplate(models.Model):
    library = models.ForeignKey(ControlLibrary, on_delete=models.CASCADE, related_name="templates")
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    description = models.TextField()
    control_type = models.CharField(max_length=16, choices=ControlType.choices)
    frequency = models.CharField(max_length=16, choices=Frequency.choices)
    evidence_guidance = models.TextField()
    criteria = models.ManyToManyField(Criterion, related_name="templates")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["library_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["library", "code"], name="template_unique_code"),
            models.CheckConstraint(
                condition=models.Q(control_type__in=ControlType.values), name="template_type_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__in=Frequency.values), name="template_frequency_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"
