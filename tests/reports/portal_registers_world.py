"""The risk register and vendors for the auditor portal's test world: two risks (one
accepted, its acceptance expired; one mitigated by the world's in-scope control, with a title
that looks like a spreadsheet formula), a risk assessment with its CSV and PDF stored and one
still rendering, and two vendors (one critical with a stale SOC 2 report and a review, each
document a stored file). Written directly, so that building the world logs nothing."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from controls.periods import add_months
from risks.models import Risk, RiskAssessment
from vendors.models import Vendor, VendorDocument, VendorReview

ASSESSMENT_CSV = b"title,residual\nAccount takeover,6\n"
ASSESSMENT_PDF = b"%PDF-1.4 frozen register"
SOC2 = b"%PDF-1.4 soc 2 report"
FORMULA_TITLE = '=HYPERLINK("http://evil.test","click")'


def risk(org, title: str, *, owner=None, inherent=(4, 4), residual=(2, 3), **values) -> Risk:
    today = timezone.localdate()
    return Risk.objects.create(
        organization=org,
        title=title,
        category=values.pop("category", "security"),
        owner=owner,
        inherent_likelihood=inherent[0],
        inherent_impact=inherent[1],
        inherent_score=inherent[0] * inherent[1],
        residual_likelihood=residual[0],
        residual_impact=residual[1],
        residual_score=residual[0] * residual[1],
        next_review_date=values.pop("next_review_date", today + dt.timedelta(days=200)),
        **values,
    )


def stored(name: str, data: bytes) -> tuple[str, str]:
    key = default_storage.save(f"test-portal/{name}", ContentFile(data))
    return key, hashlib.sha256(data).hexdigest()


def assessment(org, day: dt.date, *, files: bool = True, **values) -> RiskAssessment:
    row = RiskAssessment(
        organization=org,
        performed_on=day,
        performed_by_label="manager@example.com",
        summary={
            "inherent": {"low": 0, "medium": 0, "high": 0, "critical": 2},
            "residual": {"low": 0, "medium": 1, "high": 0, "critical": 1},
            "acceptances_expired": 1,
            "reviews_overdue": 0,
            "matrix": {"size": 5},
        },
        risk_count=2,
        next_due=day + dt.timedelta(days=365),
        **values,
    )
    if files:
        row.csv_file, row.csv_sha256 = stored("assessment.csv", ASSESSMENT_CSV)
        row.pdf_file, row.pdf_sha256 = stored("assessment.pdf", ASSESSMENT_PDF)
        row.csv_size, row.pdf_size = len(ASSESSMENT_CSV), len(ASSESSMENT_PDF)
        row.status = "ready"
    row.save()
    return row


def document(vendor: Vendor, kind: str, data: bytes, **values) -> VendorDocument:
    doc = VendorDocument(
        organization_id=vendor.organization_id,
        vendor=vendor,
        kind=kind,
        file_name=f"{kind}.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_label="manager@example.com",
        **values,
    )
    doc.file.save("ignored", ContentFile(data), save=False)
    doc.save()
    return doc


def add_registers(w) -> None:
    org, today = w.org, timezone.localdate()
    w.accepted_risk = risk(
        org,
        "Key person departure",
        owner=w.manager,
        category="people",
        treatment="accept",
        accepted_by=w.manager,
        accepted_reason="Documented hand-over",
        accepted_until=today - dt.timedelta(days=3),
        accepted_at=timezone.now(),
    )
    w.mitigated_risk = risk(
        org, FORMULA_TITLE, owner=w.manager, residual=(4, 4), treatment="mitigate"
    )
    w.mitigated_risk.controls.through.objects.create(
        organization=org, risk=w.mitigated_risk, control=w.control
    )
    w.assessment = assessment(org, today - dt.timedelta(days=30))
    w.rendering = assessment(org, today - dt.timedelta(days=1), files=False)
    w.vendor = Vendor.objects.create(
        organization=org,
        name="Payments Inc",
        criticality="critical",
        owner=w.manager,
        is_subprocessor=True,
        next_review_date=today - dt.timedelta(days=1),
    )
    w.soc2 = document(w.vendor, "soc2_report", SOC2, period_end=add_months(today, -13))
    w.review = VendorReview.objects.create(
        organization=org,
        vendor=w.vendor,
        reviewed_by_label="manager@example.com",
        reviewed_on=today - dt.timedelta(days=400),
        residual_risk="medium",
        decision="approve_with_conditions",
        notes="Bridge letter requested",
        next_review_date=today - dt.timedelta(days=1),
    )
    w.quiet_vendor = Vendor.objects.create(organization=org, name="Mail Co", criticality="low")


def register_urls(w, audit) -> list[str]:
    """Every risk and vendor portal URL inside ``audit``."""

    def url(name: str, **kwargs) -> str:
        return reverse(name, kwargs={"org_slug": w.org.slug, "audit_pk": audit.pk, **kwargs})

    return [
        url("portal_risks"),
        url("portal_risk", pk=w.mitigated_risk.pk),
        url("portal_risk_assessments"),
        url("portal_risk_assessment_file", pk=w.assessment.pk, kind="csv"),
        url("portal_vendors"),
        url("portal_vendor", pk=w.vendor.pk),
        url("portal_vendor_document", pk=w.vendor.pk, doc_pk=w.soc2.pk),
    ]
