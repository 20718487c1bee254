"""The vendor pages: a manager adds a vendor, a document (bad files refused, nothing kept) and a
review; who may see them; another organization's vendor is not found on every route."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tenants.models import Role
from tests.isolation import assert_foreign_object_404
from tests.scanner import hold_uploads
from tests.vendors.conftest import PDF, add_doc, make_vendor, months_ago
from vendors.models import Vendor, VendorDocument, VendorReview

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_a_manager_adds_a_vendor_a_document_and_a_review(org, manager, client_for, settings):
    client = client_for(manager)
    assert b"Add a vendor" in client.get(url("vendors", org)).content
    bad = client.post(url("vendor_new", org), {"name": "", "criticality": "huge"})
    assert bad.status_code == 400 and not Vendor.objects.for_org(org).exists()
    made = client.post(
        url("vendor_new", org),
        {
            "name": "Cloudy Hosting",
            "service": "Hosting",
            "owner": manager.pk,
            "criticality": "critical",
            "data_kinds": ["customer_data", "personal_data"],
            "is_subprocessor": "on",
            "website": "cloudy.example.com",
        },
    )
    vendor = Vendor.objects.for_org(org).get()
    assert made.url == url("vendor_detail", org, pk=vendor.pk)
    assert vendor.owner == manager and vendor.website == "https://cloudy.example.com"
    assert vendor.data_kinds == ["customer_data", "personal_data"] and vendor.is_subprocessor
    page = client.get(made.url)
    assert b"SOC 2 report missing" in page.content and b"Customer data" in page.content
    doc_url = url("vendor_document_add", org, pk=vendor.pk)

    def upload(name, data, **fields):
        return client.post(doc_url, {"file": SimpleUploadedFile(name, data), **fields})

    wrong = upload(
        "report.exe", b"MZ\x90\x00" + b"\x00" * 100, kind="soc2_report", period_end=months_ago(1)
    )
    assert wrong.status_code == 400 and b"program" in wrong.content.lower()
    no_date = upload("report.pdf", PDF, kind="soc2_report")
    assert no_date.status_code == 400 and b"period end" in no_date.content
    hold_uploads(settings)  # ClamAV configured but unreachable: refused, nothing kept
    held = upload("report.pdf", PDF, kind="soc2_report", period_end=months_ago(13))
    assert held.status_code == 400 and b"malware" in held.content
    settings.CLAMAV_HOST = ""
    assert not VendorDocument.objects.for_org(org).exists()
    media = settings.MEDIA_ROOT
    import pathlib

    assert not any(p.is_file() for p in pathlib.Path(media).rglob("*"))
    ok = upload("report.pdf", PDF, kind="soc2_report", period_end=months_ago(13).isoformat())
    assert ok.status_code == 302
    doc = VendorDocument.objects.for_org(org).get()
    assert doc.size == len(PDF) and doc.content_type == "application/pdf" and len(doc.sha256) == 64
    detail = client.get(url("vendor_detail", org, pk=vendor.pk))
    assert b"Stale" in detail.content
    listed = client.get(url("vendors", org) + "?attention=stale")
    assert b"Cloudy Hosting" in listed.content and b"SOC 2 report" in listed.content
    download = client.get(url("vendor_document", org, pk=vendor.pk, doc_pk=doc.pk))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    today = timezone.localdate()
    review_url = url("vendor_review_add", org, pk=vendor.pk)
    refused = client.post(
        review_url,
        {"reviewed_on": today, "residual_risk": "medium", "decision": "reject", "notes": ""},
    )
    assert refused.status_code == 400 and b"reasons" in refused.content
    done = client.post(
        review_url, {"reviewed_on": today, "residual_risk": "low", "decision": "approve"}
    )
    assert done.status_code == 302 and VendorReview.objects.for_org(org).count() == 1
    edit = client.post(
        url("vendor_edit", org, pk=vendor.pk), {"name": "Cloudy", "criticality": "low"}
    )
    vendor.refresh_from_db()
    assert edit.status_code == 302 and vendor.name == "Cloudy" and vendor.owner is None
    kept = client.post(url("vendor_delete", org, pk=vendor.pk))
    assert kept.status_code == 302 and Vendor.objects.for_org(org).exists()


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_only_managers_see_or_change_vendors(org, manager, make_member, client_for, role):
    vendor = make_vendor(manager, owner=manager)
    member = make_member(org, role)
    client = client_for(member)
    for name, kwargs in (
        ("vendors", {}),
        ("vendor_new", {}),
        ("vendor_detail", {"pk": vendor.pk}),
        ("vendor_edit", {"pk": vendor.pk}),
    ):
        # Refused (403), or an auditor sent to the auditor portal (302).
        assert client.get(url(name, org, **kwargs)).status_code in (302, 403)
    assert client.post(url("vendor_new", org), {"name": "X"}).status_code in (302, 403)
    posted = client.post(
        url("vendor_document_add", org, pk=vendor.pk),
        {"kind": "dpa", "file": SimpleUploadedFile("d.pdf", PDF)},
    )
    assert posted.status_code in (302, 403)
    assert Vendor.objects.for_org(org).count() == 1
    assert not VendorDocument.objects.for_org(org).exists()
    page = client_for(member).get(url("org_home", org))
    assert b"/vendors/" not in page.content


def test_another_organizations_vendor_is_not_found(org, manager, outsider, client_for):
    vendor = make_vendor(manager)
    doc = add_doc(manager, vendor, "dpa")
    client = client_for(outsider)
    slug = outsider.organization.slug
    both, post = ("get", "post"), ("post",)
    for name, kwargs, methods in (
        ("vendor_detail", {"pk": vendor.pk}, both),
        ("vendor_edit", {"pk": vendor.pk}, both),
        ("vendor_delete", {"pk": vendor.pk}, post),
        ("vendor_document_add", {"pk": vendor.pk}, post),
        ("vendor_review_add", {"pk": vendor.pk}, post),
        ("vendor_document", {"pk": vendor.pk, "doc_pk": doc.pk}, ("get",)),
    ):
        path = reverse(name, kwargs={"org_slug": slug, **kwargs})
        assert_foreign_object_404(client, path, methods=methods)
    # Under the victim's slug: the outsider is no member there.
    assert client.get(url("vendor_detail", org, pk=vendor.pk)).status_code == 404
    assert Vendor.objects.for_org(org).count() == 1


def test_a_review_overdue_shows_on_the_list_filter(org, manager, client_for):
    make_vendor(manager, "Late", next_review_date=timezone.localdate() - dt.timedelta(days=1))
    make_vendor(manager, "Fine")
    page = client_for(manager).get(url("vendors", org) + "?attention=overdue")
    assert b"Late" in page.content and b"Fine" not in page.content and b"Overdue" in page.content
