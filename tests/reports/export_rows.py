"""Many risks and vendors written in bulk (for the exports' query counts at 2,000 rows)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from risks.models import Risk, RiskControl, RiskSystem
from vendors.models import Vendor, VendorDocument, VendorReview


def bulk_risks(org, owner, count: int, *, controls=(), systems=(), start: int = 0) -> None:
    today = timezone.localdate()
    risks = Risk.objects.bulk_create(
        Risk(
            organization=org,
            title=f"Risk {start + i:05d}",
            category="security",
            owner=owner,
            inherent_likelihood=1 + i % 5,
            inherent_impact=1 + (i // 5) % 5,
            inherent_score=(1 + i % 5) * (1 + (i // 5) % 5),
            residual_likelihood=1,
            residual_impact=1 + i % 3,
            residual_score=1 + i % 3,
            treatment="mitigate" if controls else "undecided",
            next_review_date=today + dt.timedelta(days=i % 400 - 30),
        )
        for i in range(count)
    )
    RiskControl.objects.bulk_create(
        RiskControl(organization=org, risk=r, control=c) for r in risks for c in controls
    )
    RiskSystem.objects.bulk_create(
        RiskSystem(organization=org, risk=r, system=s) for r in risks for s in systems
    )


def bulk_vendors(org, owner, count: int, *, start: int = 0) -> None:
    """``count`` vendors, each with a SOC 2 report, a DPA and a review."""
    today = timezone.localdate()
    vendors = Vendor.objects.bulk_create(
        Vendor(
            organization=org,
            name=f"Vendor {start + i:05d}",
            owner=owner,
            criticality=("low", "medium", "high", "critical")[i % 4],
            next_review_date=today + dt.timedelta(days=i % 100 - 50),
        )
        for i in range(count)
    )
    VendorDocument.objects.bulk_create(
        VendorDocument(
            organization=org,
            vendor=v,
            kind=kind,
            file=f"vendors/{org.pk}/bulk",
            file_name=f"{kind}.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            period_end=today - dt.timedelta(days=i % 500) if kind == "soc2_report" else None,
        )
        for i, v in enumerate(vendors)
        for kind in ("soc2_report", "dpa")
    )
    VendorReview.objects.bulk_create(
        VendorReview(
            organization=org,
            vendor=v,
            reviewed_on=today - dt.timedelta(days=30),
            residual_risk="low",
            decision="approve",
            next_review_date=today + dt.timedelta(days=300),
        )
        for v in vendors
    )
