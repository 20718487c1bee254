"""The demo's vendor inventory: five vendors a SaaS company has, owned by the compliance
manager, with their documents (small PDFs, uploaded and checked like any file) and two reviews.
The payment processor, a critical vendor, has a SOC 2 report whose period ended 13 months ago
and no bridge letter: stale, on the vendor list and the manager's to-do list. Written through
the services (so the activity log has it); idempotent: nothing happens once a vendor exists."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.utils import timezone

from controls.demo import demo_member
from controls.periods import add_months
from evidence.tiny_pdf import pdf_from_objects
from tenants.models import Membership, Organization, Role
from vendors import services
from vendors.models import Decision, DocumentKind, ResidualRisk, Vendor

# name, values; documents as (kind, months ago: SOC 2 period end / upload, file name).
VENDORS = [
    (
        "Amazon Web Services",
        {
            "service": "Cloud hosting: compute, PostgreSQL, object storage",
            "criticality": "critical",
            "data_kinds": ["customer_data", "personal_data", "credentials"],
            "access": "Hosts the production platform and its backups",
            "is_subprocessor": True,
            "website": "https://aws.amazon.com",
        },
        [(DocumentKind.SOC2_REPORT, 3), (DocumentKind.DPA, 14)],
    ),
    (
        "Stripe",
        {
            "service": "Payment processing and billing",
            "criticality": "critical",
            "data_kinds": ["financial", "personal_data"],
            "access": "Card data and customers' billing contacts",
            "is_subprocessor": True,
            "website": "https://stripe.com",
        },
        # Stale: the period ended 13 months ago and no bridge letter covers the gap.
        [(DocumentKind.SOC2_REPORT, 13), (DocumentKind.DPA, 20)],
    ),
    (
        "Postmark",
        {
            "service": "Transactional e-mail",
            "criticality": "high",
            "data_kinds": ["personal_data"],
            "access": "Customers' e-mail addresses and notification content",
            "is_subprocessor": True,
            "website": "https://postmarkapp.com",
        },
        [(DocumentKind.SOC2_REPORT, 4), (DocumentKind.DPA, 10)],
    ),
    (
        "GitHub",
        {
            "service": "Source code hosting and CI",
            "criticality": "high",
            "data_kinds": ["source_code", "credentials"],
            "access": "The platform's source code and deployment secrets",
            "website": "https://github.com",
        },
        [(DocumentKind.SOC2_REPORT, 5)],
    ),
    (
        "BambooHR",
        {
            "service": "HR platform: employee records and onboarding",
            "criticality": "medium",
            "data_kinds": ["personal_data", "internal"],
            "access": "Employees' personal and contract data",
            "website": "https://www.bamboohr.com",
        },
        [(DocumentKind.DPA, 8), (DocumentKind.QUESTIONNAIRE, 2)],
    ),
]
# vendor -> (months ago, residual risk, decision, notes)
REVIEWS = {
    "Amazon Web Services": (
        2,
        ResidualRisk.LOW,
        Decision.APPROVE,
        "SOC 2 Type 2 report read: no exceptions relevant to our use; CUECs mapped to our "
        "access and backup controls.",
    ),
    "Postmark": (
        4,
        ResidualRisk.MEDIUM,
        Decision.CONDITIONS,
        "Approved on condition that message bodies carry no customer data beyond the "
        "recipient's address; checked in the notification templates.",
    ),
}


def demo_pdf(title: str) -> bytes:
    """A small, well-formed one-page PDF saying ``title`` (with a correct xref table)."""
    text = title.replace("\\", "").replace("(", "").replace(")", "")
    stream = b"BT /F1 14 Tf 40 140 Td (%s) Tj ET" % text.encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 200] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_from_objects(objects)


def demo_seed_vendors(organization: Organization) -> None:
    manager = demo_member(organization, Role.COMPLIANCE_MANAGER)
    if manager is None or Vendor.objects.for_org(organization).exists():
        return
    today = timezone.localdate()
    for name, values, documents in VENDORS:
        vendor = services.vendor_create(
            membership=manager,
            name=name,
            owner=manager,
            contract_start=add_months(today, -24),
            contract_end=add_months(today, 12),
            **values,
        )
        for kind, months in documents:
            _document(manager, vendor, kind, add_months(today, -months))
        review = REVIEWS.get(name)
        if review is not None:
            months, residual, decision, notes = review
            services.review_record(
                membership=manager,
                vendor=vendor,
                reviewed_on=add_months(today, -months),
                residual_risk=residual,
                decision=decision,
                notes=notes,
            )
        else:
            # Not reviewed yet: the first review is planned within the quarter.
            services.vendor_update(
                membership=manager, vendor=vendor, next_review_date=today + dt.timedelta(days=60)
            )


def _document(manager: Membership, vendor: Vendor, kind: str, on: dt.date) -> None:
    label = DocumentKind(kind).label
    slug = f"{vendor.name.lower().replace(' ', '-')}-{kind.replace('_', '-')}"
    upload = ContentFile(demo_pdf(f"{vendor.name}: {label} ({on:%B %Y})"), name=f"{slug}.pdf")
    period_end = on if kind in (DocumentKind.SOC2_REPORT, DocumentKind.BRIDGE_LETTER) else None
    services.document_add(
        membership=manager, vendor=vendor, kind=kind, upload=upload, period_end=period_end
    )
