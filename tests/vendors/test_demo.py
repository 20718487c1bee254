"""The demo vendors: five, owned by the compliance manager, their documents real PDFs stored
through the upload checks, exactly one stale (a critical vendor's SOC 2 report 13 months past
its period end, no bridge letter), on the manager's to-do list; idempotent."""

from __future__ import annotations

import magic
import pytest
from django.utils import timezone

from tenants.models import ActivityEntry
from vendors.demo import demo_pdf, demo_seed_vendors
from vendors.models import Vendor, VendorDocument, VendorReview
from vendors.selectors import vendor_rows
from vendors.todo import vendor_todos

pytestmark = pytest.mark.django_db


def test_the_demo_vendors(org, manager, django_assert_max_num_queries):
    demo_seed_vendors(org)
    counts = (
        Vendor.objects.for_org(org).count(),
        VendorDocument.objects.for_org(org).count(),
        VendorReview.objects.for_org(org).count(),
    )
    with django_assert_max_num_queries(2):
        demo_seed_vendors(org)  # idempotent: one look at the vendors, nothing written
    assert counts == (
        Vendor.objects.for_org(org).count(),
        VendorDocument.objects.for_org(org).count(),
        VendorReview.objects.for_org(org).count(),
    )
    assert counts[0] == 5 and counts[2] == 2
    today = timezone.localdate()
    rows = vendor_rows(org, today)
    assert all(r.vendor.owner_id == manager.pk for r in rows)
    statuses = {r.vendor.name: r.status for r in rows}
    assert [n for n, s in statuses.items() if s == "stale"] == ["Stripe"]
    assert set(statuses.values()) == {"stale", "current"}
    assert not any(r.review_overdue for r in rows)
    stripe = next(r for r in rows if r.vendor.name == "Stripe")
    assert stripe.vendor.criticality == "critical" and stripe.stale_kinds == ["SOC 2 report"]
    assert not VendorDocument.objects.for_org(org).filter(kind="bridge_letter").exists()
    assert {r.vendor.name for r in rows if r.vendor.is_subprocessor} >= {"Amazon Web Services"}
    todos = vendor_todos(manager, today)
    assert [(t.kind, t.title) for t in todos] == [
        ("vendor.documents", "Collect current documents from Stripe")
    ]
    for doc in VendorDocument.objects.for_org(org):
        assert doc.content_type == "application/pdf" and doc.file_name.endswith(".pdf")
        assert doc.file.read().startswith(b"%PDF-1.4")
    # Through the services: the activity log tells it.
    logged = ActivityEntry.objects.for_org(org).filter(object_type="vendors.vendor")
    assert logged.filter(action="create").count() == 5
    assert logged.filter(action="upload").count() == counts[1]


def test_the_demo_pdf_is_a_pdf():
    data = demo_pdf("Stripe: SOC 2 report (May 2025)")
    assert magic.from_buffer(data, mime=True) == "application/pdf"
    assert data.rstrip().endswith(b"%%EOF") and b"(Stripe: SOC 2 report May 2025) Tj" in data
