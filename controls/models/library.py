"""The control library: ready-made control templates (global reference data, read-only)."""

from __future__ import annotations

from django.db import models

from criteria.models import Criterion, Framework


class ControlType(models.TextChoices):
    POLICY = "policy", "Policy"
    PROCEDURAL = "procedural", "Procedural"
    TECHNICAL = "technical", "Technical"


class Operation(models.TextChoices):
    """How a control operates: it decides how evidence counts per period (``controls.operation``)."""

    MANUAL = "manual", "Manual (a person performs it)"
    AUTOMATIC = "automatic", "Automatic (a system does it and reports)"


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


class PeriodUnit(models.TextChoices):
    MONTH = "month", "Months"
    DAY = "day", "Days"
    WINDOW = "window", "The whole window"


class FrequencyRule(models.Model):
    """How a control frequency turns into evidence expectations (editable reference data,
    loaded from ``controls/data/frequency_rules.yaml``).

    - the sub-periods of a Type 2 window that each need evidence (``period_unit``/``length``);
    - how long one piece of evidence counts as current (``validity_days``);
    - the sample size auditors commonly draw (a practitioner convention, not an AICPA rule).
    """

    frequency = models.CharField(max_length=16, choices=Frequency.choices, unique=True)
    period_unit = models.CharField(max_length=8, choices=PeriodUnit.choices)
    period_length = models.PositiveSmallIntegerField(default=1)
    validity_days = models.PositiveSmallIntegerField()
    sample_min = models.PositiveSmallIntegerField()
    sample_max = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sample_min__lte=models.F("sample_max")), name="rule_sample_range"
            ),
            models.CheckConstraint(
                condition=models.Q(period_length__gte=1), name="rule_period_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.frequency

    @property
    def sample_label(self) -> str:
        if self.sample_min == self.sample_max:
            return str(self.sample_min)
        return f"{self.sample_min}–{self.sample_max}"
