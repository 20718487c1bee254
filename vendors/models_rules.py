"""An organization's own vendor freshness rules (``vendors.rules``): one row per organization,
created with the defaults the first time a manager changes them (reading them writes
nothing); until then the defaults apply. The ranges below are also the services' (``vendors.services_rules``); the
database holds them too."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import TenantModel

# (low, high) of each rule, in its unit.
RANGES = {
    "soc2_months": (1, 36),
    "bridge_months": (1, 12),
    "questionnaire_months": (1, 36),
    "expiring_days": (1, 180),
    "review_months_critical": (1, 60),
    "review_months_high": (1, 60),
    "review_months_medium": (1, 60),
    "review_months_low": (1, 60),
}


def _in_range(name: str) -> models.CheckConstraint:
    low, high = RANGES[name]
    return models.CheckConstraint(
        condition=Q(**{f"{name}__gte": low, f"{name}__lte": high}), name=f"vendor_rules_{name}"
    )


class VendorRules(TenantModel):
    # A SOC 2 report counts this long after the end of the period it examined.
    soc2_months = models.PositiveSmallIntegerField(default=12)
    # A bridge letter counts this long after the date it covers up to.
    bridge_months = models.PositiveSmallIntegerField(default=3)
    questionnaire_months = models.PositiveSmallIntegerField(default=12)
    # "Expiring": current, but running out within this many days.
    expiring_days = models.PositiveSmallIntegerField(default=30)
    # The next review after a review, by the vendor's criticality.
    review_months_critical = models.PositiveSmallIntegerField(default=12)
    review_months_high = models.PositiveSmallIntegerField(default=12)
    review_months_medium = models.PositiveSmallIntegerField(default=24)
    review_months_low = models.PositiveSmallIntegerField(default=36)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "vendor rules"
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="vendor_rules_one_per_org"),
            *[_in_range(name) for name in RANGES],
        ]

    def __str__(self) -> str:
        return "Vendor freshness rules"
