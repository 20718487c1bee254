"""The risk register (CC3.1-CC3.4): an organization's risk matrix and its risks.

Scores are stored (likelihood x impact) so the register filters and sorts by them in the
database; a check constraint keeps each stored score equal to its product. The matrix holds
the labels and the score thresholds of each level as data; the services refuse a likelihood
or impact outside it (the constraints below only hold the absolute bounds, 1..MAX_SIZE).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from tenants.scoping import TenantModel

MAX_SIZE = 10


class Level(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Category(models.TextChoices):
    SECURITY = "security", "Information security"
    OPERATIONAL = "operational", "Operational"
    AVAILABILITY = "availability", "Availability"
    PRIVACY = "privacy", "Privacy and confidentiality"
    VENDOR = "vendor", "Vendors and third parties"
    PEOPLE = "people", "People"
    COMPLIANCE = "compliance", "Legal and compliance"
    FINANCIAL = "financial", "Financial"
    STRATEGIC = "strategic", "Strategic"
    FRAUD = "fraud", "Fraud (CC3.3)"
    CHANGE = "change", "Significant change (CC3.4)"


class Treatment(models.TextChoices):
    UNDECIDED = "undecided", "Not decided yet"
    MITIGATE = "mitigate", "Mitigate"
    ACCEPT = "accept", "Accept"
    TRANSFER = "transfer", "Transfer"
    AVOID = "avoid", "Avoid"


class RiskMatrix(TenantModel):
    """One per organization, created with the defaults on first need (``risks.matrix``)."""

    size = models.PositiveSmallIntegerField(default=5)
    # One label per step, lowest first: ["Rare", ..., "Almost certain"].
    likelihood_labels = models.JSONField(default=list)
    impact_labels = models.JSONField(default=list)
    # The lowest score of each level above "low": {"medium": 5, "high": 10, "critical": 16}.
    thresholds = models.JSONField(default=dict)
    # How often the risk assessment is run (days): an assessment older than this is overdue.
    assessment_interval_days = models.PositiveSmallIntegerField(default=365)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="risk_matrix_one_per_org"),
            models.CheckConstraint(
                condition=Q(size__gte=2, size__lte=MAX_SIZE), name="risk_matrix_size_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.size}x{self.size} risk matrix"


def _score_rules(prefix: str) -> list[models.CheckConstraint]:
    lik, imp, score = f"{prefix}_likelihood", f"{prefix}_impact", f"{prefix}_score"
    return [
        models.CheckConstraint(
            condition=Q(**{f"{lik}__gte": 1, f"{lik}__lte": MAX_SIZE}),
            name=f"risk_{prefix}_likelihood_range",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{imp}__gte": 1, f"{imp}__lte": MAX_SIZE}),
            name=f"risk_{prefix}_impact_range",
        ),
        models.CheckConstraint(
            condition=Q(**{score: F(lik) * F(imp)}), name=f"risk_{prefix}_score_product"
        ),
    ]


class Risk(TenantModel):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    owner = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inherent_likelihood = models.PositiveSmallIntegerField()
    inherent_impact = models.PositiveSmallIntegerField()
    inherent_score = models.PositiveSmallIntegerField()
    residual_likelihood = models.PositiveSmallIntegerField()
    residual_impact = models.PositiveSmallIntegerField()
    residual_score = models.PositiveSmallIntegerField()
    treatment = models.CharField(
        max_length=10, choices=Treatment.choices, default=Treatment.UNDECIDED
    )
    controls = models.ManyToManyField(
        "controls.Control", through="RiskControl", related_name="risks", blank=True
    )
    systems = models.ManyToManyField(
        "controls.System", through="RiskSystem", related_name="risks", blank=True
    )
    accepted_by = models.ForeignKey(
        "tenants.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_reason = models.TextField(blank=True)
    accepted_until = models.DateField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    next_review_date = models.DateField()
    library_key = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-residual_score", "title", "id"]
        constraints = [
            *_score_rules("inherent"),
            *_score_rules("residual"),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="risk_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(treatment__in=Treatment.values), name="risk_treatment_valid"
            ),
            models.CheckConstraint(
                condition=~Q(treatment=Treatment.ACCEPT)
                | (~Q(accepted_reason="") & Q(accepted_until__isnull=False)),
                name="risk_acceptance_complete",
            ),
            models.UniqueConstraint(
                fields=["organization", "library_key"],
                condition=~Q(library_key=""),
                name="risk_unique_library_key",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "owner"], name="risk_org_owner"),
            models.Index(fields=["organization", "residual_score"], name="risk_org_residual"),
        ]

    def __str__(self) -> str:
        return self.title


class RiskControl(TenantModel):
    """A control that mitigates a risk (the organization's own control)."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="control_links")
    control = models.ForeignKey("controls.Control", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "risk", "control"], name="risk_control_unique"
            )
        ]


class RiskSystem(TenantModel):
    """A system in scope that the risk touches."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="system_links")
    system = models.ForeignKey("controls.System", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "risk", "system"], name="risk_system_unique"
            )
        ]


from risks.models_assessment import AssessmentStatus, RiskAssessment  # noqa: E402,F401
