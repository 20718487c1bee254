"""The vendor API: vendors (list with filters, add, read, change), documents (list, multipart
upload, bad files refused) and reviews (list, record); managers and their keys only; another
organization's vendor is a 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tenants.models import Role
from tests.vendors.conftest import PDF, add_doc, make_vendor, months_ago
from vendors.models import Vendor, VendorDocument, VendorReview

pytestmark = pytest.mark.django_db


def base(org) -> str:
    return f"/api/v1/orgs/{org.slug}/vendors/"


def test_vendors_documents_and_reviews_through_the_api(org, manager, api_for):
    api = api_for(manager)
    made = api.post(
        base(org),
        {
            "name": "Mailer",
            "criticality": "high",
            "owner": manager.pk,
            "data_kinds": ["credentials"],
        },
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["owner_email"] == manager.user.email and body["document_status"] == "none"
    pk = body["id"]
    typo = api.patch(f"{base(org)}{pk}/", {"critically": "low"})
    assert typo.status_code == 400
    bad_owner = api.patch(f"{base(org)}{pk}/", {"owner": 2**40})
    assert bad_owner.status_code == 400
    changed = api.patch(f"{base(org)}{pk}/", {"is_subprocessor": True})
    assert changed.status_code == 200 and changed.json()["is_subprocessor"] is True
    docs = f"{base(org)}{pk}/documents/"

    def upload(name, data, **fields):
        return api.post(
            docs, {"file": SimpleUploadedFile(name, data), **fields}, format="multipart"
        )

    wrong = upload("r.exe", b"MZ\x90\x00" + b"\x00" * 100, kind="dpa")
    assert wrong.status_code == 400 and "program" in wrong.json()["detail"].lower()
    no_period = upload("r.pdf", PDF, kind="bridge_letter")
    assert no_period.status_code == 400 and no_period.json()["code"]
    assert api.post(docs, {"kind": "dpa"}).status_code == 400  # JSON: no file
    assert not VendorDocument.objects.for_org(org).exists()
    added = upload("r.pdf", PDF, kind="soc2_report", period_end=months_ago(13).isoformat())
    assert added.status_code == 201, added.json()
    assert added.json()["status"] == "stale" and added.json()["size"] == len(PDF)
    listed = api.get(docs).json()
    assert listed["count"] == 1 and listed["results"][0]["kind"] == "soc2_report"
    stale = api.get(base(org), {"attention": "stale"}).json()
    assert [v["name"] for v in stale["results"]] == ["Mailer"]
    assert api.get(base(org), {"criticality": "low"}).json()["count"] == 0
    assert api.get(base(org), {"criticality": "nope"}).status_code == 400
    reviews = f"{base(org)}{pk}/reviews/"
    today = timezone.localdate()
    recorded = api.post(
        reviews, {"reviewed_on": today.isoformat(), "residual_risk": "low", "decision": "approve"}
    )
    assert recorded.status_code == 201, recorded.json()
    assert (
        api.get(f"{base(org)}{pk}/").json()["next_review_date"]
        == recorded.json()["next_review_date"]
    )
    assert api.get(reviews).json()["count"] == 1


def test_keys_and_roles(org, manager, make_member, api_for, key_client):
    vendor = make_vendor(manager)
    assert key_client(org, Role.COMPLIANCE_MANAGER).get(base(org)).status_code == 200
    made = key_client(org, Role.ADMIN).post(base(org), {"name": "By key"})
    assert made.status_code == 201
    for client in (key_client(org, "read_only"), api_for(make_member(org, Role.CONTRIBUTOR))):
        assert client.get(base(org)).status_code == 403
        assert client.post(base(org), {"name": "Nope"}).status_code == 403
        answer = client.post(
            f"{base(org)}{vendor.pk}/reviews/",
            {"reviewed_on": "2025-01-01", "residual_risk": "low", "decision": "approve"},
        )
        assert answer.status_code == 403
    auditor = api_for(make_member(org, Role.AUDITOR))
    assert auditor.get(base(org)).status_code == 403
    assert Vendor.objects.for_org(org).count() == 2
    assert not VendorReview.objects.for_org(org).exists()


def test_another_organizations_vendor_is_a_404(org, manager, outsider, api_for, key_client):
    vendor = make_vendor(manager)
    add_doc(manager, vendor, "dpa")
    theirs = outsider.organization
    for client in (api_for(outsider), key_client(theirs, Role.ADMIN)):
        for path in ("", "documents/", "reviews/"):
            assert client.get(f"{base(theirs)}{vendor.pk}/{path}").status_code == 404
        assert client.patch(f"{base(theirs)}{vendor.pk}/", {"name": "x"}).status_code == 404
        review = {"reviewed_on": "2025-01-01", "residual_risk": "low", "decision": "approve"}
        assert client.post(f"{base(theirs)}{vendor.pk}/reviews/", review).status_code == 404
        assert client.get(base(org)).status_code == 404  # not a member there
        assert client.get(f"{base(theirs)}abc/").status_code == 404
        assert client.get(base(theirs)).json()["count"] == 0
    assert Vendor.objects.for_org(org).get().name == vendor.name
