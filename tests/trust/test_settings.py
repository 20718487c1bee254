"""The trust center's settings and requests pages: owners and admins only; what they save is
checked (nothing partial stored) and logged; another organization's objects are 404; the
home's to-do lists pending requests."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from soc2app.todo import todo_for
from tenants.models import ActivityEntry, Role
from tests.isolation import assert_foreign_object_404
from tests.trust.conftest import build_center, pdf_upload
from trust.models import TrustCenter, TrustDocument, TrustRequest

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def settings_data(**values):
    data = {
        "slug": "acme-security",
        "headline": "Acme security",
        "nda_text": "Keep it secret.",
        "allowed_domains": "a.example.com\nb.example.com",
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def test_an_owner_publishes_and_the_change_is_logged(org, owner, client_for):
    client = client_for(owner)
    page = client.get(url("trust_settings", org))
    assert page.status_code == 200 and b"Not published" in page.content
    saved = client.post(url("trust_settings", org), settings_data(published="on"))
    assert saved.status_code == 302
    center = TrustCenter.objects.for_org(org).get()
    assert center.published and center.allowed_domains == ["a.example.com", "b.example.com"]
    assert Client().get("/trust/acme-security/").status_code == 200
    entry = ActivityEntry.objects.for_org(org).filter(object_type="trust.trustcenter").get()
    assert entry.action == "create" and entry.changes["slug"] == [None, "acme-security"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"slug": "A b!"}, b"lower-case letters"),
        ({"nda_text": ""}, b"This field is required"),
        ({"allowed_domains": "not a domain"}, b"is not a domain name"),
        ({"custom_domain": "127.0.0.1"}, b"the application"),
        ({"custom_domain": "-bad-.example"}, b"is not a domain name"),
        ({"headline": "x" * 5000}, b"at most 200 characters"),
        ({"audit": "999999"}, b"Select a valid choice"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_stored(org, owner, client_for, values, message):
    refused = client_for(owner).post(url("trust_settings", org), settings_data(**values))
    assert refused.status_code == 400 and message in refused.content
    assert not TrustCenter.objects.for_org(org).exists()


def test_a_slug_taken_by_another_organization_is_a_clear_conflict(
    org, owner, outsider, client_for, other_org
):
    client_for(outsider).post(url("trust_settings", other_org), settings_data())
    taken = client_for(owner).post(url("trust_settings", org), settings_data())
    assert taken.status_code == 400 and b"Another trust center uses that address" in taken.content


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR])
def test_only_owners_and_admins_manage_it(org, make_member, client_for, role):
    client = client_for(make_member(org, role))
    assert client.get(url("trust_settings", org)).status_code in (403, 302)
    assert client.post(url("trust_settings", org), settings_data()).status_code in (403, 302)
    assert client.get(url("trust_requests", org)).status_code in (403, 302)
    assert not TrustCenter.objects.for_org(org).exists()


def test_an_admin_can(org, make_member, client_for):
    admin = make_member(org, Role.ADMIN)
    assert client_for(admin).post(url("trust_settings", org), settings_data()).status_code == 302


def test_documents_private_ones_must_be_pdfs(org, owner, client_for, settings):
    client = client_for(owner)
    add = url("trust_document_add", org)
    text = SimpleUploadedFile("bridge.txt", b"Bridge letter text\n", content_type="text/plain")
    refused = client.post(add, {"title": "Bridge", "visibility": "private", "file": text})
    assert refused.status_code == 400 and b"must be a PDF" in refused.content
    assert not TrustDocument.objects.for_org(org).exists()
    import pathlib

    assert not any(p.is_file() for p in pathlib.Path(settings.MEDIA_ROOT).rglob("*"))
    text.seek(0)
    ok = client.post(add, {"title": "Bridge", "visibility": "public", "file": text})
    assert ok.status_code == 302
    doc = TrustDocument.objects.for_org(org).get()
    made_private = client.post(
        url("trust_document_edit", org, pk=doc.pk), {"title": "Bridge", "visibility": "private"}
    )
    assert made_private.status_code == 400 and b"must be a PDF" in made_private.content
    neither = client.post(add, {"title": "Nothing", "visibility": "public"})
    assert neither.status_code == 400 and b"Choose a file or a policy" in neither.content
    report = client.post(add, {"title": "SOC 2", "visibility": "private", "file": pdf_upload()})
    assert report.status_code == 302


def test_requests_page_approve_and_deny_and_the_home_to_do(
    owner, make_audit, client_for, django_capture_on_commit_callbacks, mailoutbox
):
    org = owner.organization
    made = build_center(owner, make_audit)
    for email in ("ana@buyer.example.com", "bo@buyer.example.com"):
        TrustRequest(
            organization=org,
            document=made["private"],
            name=email,
            email=email,
            company="Buyer",
            nda_text="x",
            nda_sha256="0" * 64,
            nda_accepted_at=made["center"].updated_at,
        ).save()
    items = [i for i in todo_for(owner) if i.kind == "trust.requests"]
    assert items and items[0].title.startswith("Decide 2 requests")
    client = client_for(owner)
    page = client.get(url("trust_requests", org))
    assert b"ana@buyer.example.com" in page.content and b"Approve" in page.content
    ana, bo = TrustRequest.objects.for_org(org).order_by("email")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("trust_request_decide", org, pk=ana.pk), {"decision": "approve"})
    client.post(url("trust_request_decide", org, pk=bo.pk), {"decision": "deny"})
    assert {r.email: r.status for r in TrustRequest.objects.for_org(org)} == {
        "ana@buyer.example.com": "approved",
        "bo@buyer.example.com": "denied",
    }
    assert len(mailoutbox) == 1 and "/download/" in mailoutbox[0].body
    again = client.post(
        url("trust_request_decide", org, pk=bo.pk), {"decision": "approve"}, follow=True
    )
    assert b"denied already" in again.content
    assert not [i for i in todo_for(owner) if i.kind == "trust.requests"]


def test_another_organizations_objects_are_404_under_our_slug(
    owner, outsider, make_audit, client_for
):
    theirs = build_center(outsider, make_audit, slug="globex-trust")
    request = TrustRequest(
        organization=outsider.organization,
        document=theirs["private"],
        name="x",
        email="x@example.com",
        company="x",
        nda_text="x",
        nda_sha256="0" * 64,
        nda_accepted_at=theirs["center"].updated_at,
    )
    request.save()
    org = owner.organization
    client = client_for(owner)
    assert_foreign_object_404(client, url("trust_document_edit", org, pk=theirs["private"].pk))
    assert_foreign_object_404(
        client, url("trust_document_withdraw", org, pk=theirs["private"].pk), methods=("post",)
    )
    assert_foreign_object_404(
        client, url("trust_request_decide", org, pk=request.pk), methods=("post",)
    )
    request.refresh_from_db()
    assert request.status == "pending"
    # Their controls and audit cannot be chosen for ours.
    bad = client.post(url("trust_controls", org), {"controls": [theirs["green"].pk]})
    assert bad.status_code == 400
    shown = client.post(url("trust_settings", org), settings_data(audit=str(theirs["audit"].pk)))
    assert shown.status_code == 400


def test_the_settings_and_requests_pages_take_constant_queries(
    owner, make_audit, client_for, django_assert_max_num_queries
):
    build_center(owner, make_audit)
    client = client_for(owner)
    org = owner.organization
    with django_assert_max_num_queries(25):
        assert client.get(url("trust_settings", org)).status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(url("trust_requests", org) + "?status=all").status_code == 200
