"""The trust center API (/api/v1/orgs/<slug>/trust/): settings, controls shown, documents and
requests through the settings pages' services; bad input is a 400 naming the field with
nothing stored; another organization's objects are 404; approval e-mails the visitor; the
lists take constant queries. (Who may call it: ``test_api_access``; the custom domain:
``test_api_domain``.)"""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.trust.conftest import (
    approved_version,
    base,
    build_center,
    logged,
    make_request,
    pdf_upload,
)
from trust.models import TrustCenter, TrustControl, TrustDocument

pytestmark = pytest.mark.django_db


def test_an_owner_reads_and_changes_the_settings(org, owner, api_for, make_audit):
    api = api_for(owner)
    fresh = api.get(f"{base(org)}settings/")
    assert fresh.status_code == 200, fresh.json()
    assert fresh.json()["saved"] is False and fresh.json()["published"] is False
    audit = make_audit(org, as_of=timezone.localdate())
    saved = api.patch(
        f"{base(org)}settings/",
        {
            "published": True,
            "slug": "Acme-Security ",
            "headline": "Acme security",
            "nda_text": "Keep it secret.",
            "allowed_domains": ["A.example.com", "b.example.com", "a.example.com"],
            "audit": audit.pk,
            "show_subprocessors": True,
        },
    )
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["saved"] and body["published"] and body["slug"] == "acme-security"
    assert body["allowed_domains"] == ["a.example.com", "b.example.com"]
    assert body["audit"] == audit.pk and body["audit_status"].startswith("SOC 2 Type")
    assert body["public_url"] == "/trust/acme-security/"
    assert Client().get("/trust/acme-security/").status_code == 200
    unpublished = api.patch(f"{base(org)}settings/", {"published": False})
    assert unpublished.json()["audit"] == audit.pk and unpublished.json()["version"] == 2
    assert Client().get("/trust/acme-security/").status_code == 404
    assert api.get(f"{base(org)}settings/").json()["published"] is False
    assert logged(org, "trust.trustcenter") == ["create", "update"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "A b!"}, "slug"),
        ({"slug": ""}, "slug"),
        ({"nda_text": ""}, "nda_text"),
        ({"allowed_domains": ["not a domain"]}, "allowed_domains"),
        ({"allowed_domains": "a.example.com"}, "allowed_domains"),
        ({"allowed_domains": [f"d{i}.example.com" for i in range(51)]}, "allowed_domains"),
        ({"custom_domain": "127.0.0.1"}, "custom_domain"),
        ({"custom_domain": "-bad-.example"}, "custom_domain"),
        ({"headline": "x" * 5000}, "headline"),
        ({"audit": 999_999}, "audit"),
        ({"audit": "abc"}, "audit"),
        ({"audit": 2**70}, "audit"),
        ({"published": "maybe"}, "published"),
        ({"publish": True}, "publish"),
    ],
)
def test_bad_settings_are_a_400_naming_the_field(org, owner, api_for, body, field):
    refused = api_for(owner).patch(f"{base(org)}settings/", body)
    assert refused.status_code == 400, refused.json()
    assert field in refused.json()["errors"] and refused.json()["code"]
    assert not TrustCenter.objects.for_org(org).exists()


def test_a_body_that_is_not_an_object_and_a_taken_address(org, owner, outsider, api_for):
    api = api_for(owner)
    assert api.patch(f"{base(org)}settings/", [1, 2]).status_code == 400
    assert api.patch(f"{base(org)}settings/", "x", format="json").status_code == 400
    theirs = api_for(outsider).patch(f"{base(outsider.organization)}settings/", {"slug": "taken"})
    assert theirs.status_code == 200
    taken = api.patch(f"{base(org)}settings/", {"slug": "taken"})
    assert taken.status_code == 409 and "Another trust center" in taken.json()["detail"]
    assert not TrustCenter.objects.for_org(org).exists()


def test_controls_shown(owner, api_for, make_audit, outsider):
    made = build_center(owner, make_audit)
    theirs = build_center(outsider, make_audit, slug="globex-trust")
    org = owner.organization
    api = api_for(owner)
    url = f"{base(org)}controls/"
    assert api.get(url).json() == {"controls": sorted([made["green"].pk, made["amber"].pk])}
    put = api.put(url, {"controls": [made["hidden"].pk]})
    assert put.status_code == 200 and put.json() == {"controls": [made["hidden"].pk]}
    for bad in (
        {"controls": [theirs["green"].pk]},
        {"controls": ["x"]},
        {"controls": [2**70]},
        {"controls": 5},
        {},
        {"controls": [], "extra": 1},
    ):
        refused = api.put(url, bad)
        assert refused.status_code == 400 and refused.json()["errors"], bad
    assert list(TrustControl.objects.for_org(org).values_list("control_id", flat=True)) == [
        made["hidden"].pk
    ]
    assert api.put(url, {"controls": []}).json() == {"controls": []}
    assert logged(org, "trust.trustcontrol") == ["publish_controls"] * 3


def test_documents_list_add_and_withdraw(owner, api_for, make_audit, settings):
    made = build_center(owner, make_audit)
    org = owner.organization
    api = api_for(owner)
    url = f"{base(org)}documents/"
    listed = api.get(url).json()
    assert [d["title"] for d in listed["results"]] == ["SOC 2 Type 1 report", "Security policy"]
    report, policy = listed["results"]
    assert policy["source"] == "policy" and policy["policy_title"] == "Information Security Policy"
    assert report["source"] == "file" and report["content_type"] == "application/pdf"
    assert "file" not in report and report["size"] > 0
    added = api.post(
        url,
        {"title": "Pen test", "visibility": "private", "file": pdf_upload()},
        format="multipart",
    )
    assert added.status_code == 201, added.json()
    assert (
        added.json()["visibility"] == "private" and added.json()["file_name"] == "soc2-report.pdf"
    )
    version = approved_version(org, "Access Policy")
    by_policy = api.post(
        url, {"title": "Access", "visibility": "public", "policy_version": version.pk}
    )
    assert by_policy.status_code == 201 and by_policy.json()["policy_version"] == version.pk
    text = SimpleUploadedFile("notes.txt", b"plain notes\n", content_type="text/plain")
    for body, field in (
        ({"title": "Notes", "visibility": "private", "file": text}, "visibility"),
        ({"title": "", "visibility": "public", "file": pdf_upload()}, "title"),
        ({"title": "Both", "visibility": "nope", "file": pdf_upload()}, "visibility"),
        ({"title": "None", "visibility": "public"}, "file"),
        ({"title": "X", "visibility": "public", "policy_version": 999_999}, "policy_version"),
    ):
        refused = api.post(url, body, format="multipart")
        assert refused.status_code == 400 and field in refused.json()["errors"], refused.json()
    assert TrustDocument.objects.for_org(org).count() == 4
    gone = api.delete(f"{url}{made['private'].pk}/")
    assert gone.status_code == 204
    assert api.delete(f"{url}{made['private'].pk}/").status_code == 404
    assert api.delete(f"{url}abc/").status_code == 404
    assert made["private"].title not in [d["title"] for d in api.get(url).json()["results"]]
    assert logged(org, "trust.trustdocument") == ["create"] * 4 + ["withdraw"]


def test_requests_filter_approve_and_deny(
    owner, api_for, make_audit, django_capture_on_commit_callbacks
):
    made = build_center(owner, make_audit)
    org = owner.organization
    ana, bo = make_request(made), make_request(made, "bo@buyer.example.com")
    api = api_for(owner)
    url = f"{base(org)}requests/"
    assert api.get(url).json()["count"] == 2
    assert api.get(url, {"status": "pending"}).json()["count"] == 2
    assert api.get(url, {"status": "nope"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        approved = api.post(f"{url}{ana.pk}/approve/")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved" and approved.json()["link_expires_at"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ana@buyer.example.com"]
    assert "/download/" in mail.outbox[0].body
    denied = api.post(f"{url}{bo.pk}/deny/")
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    again = api.post(f"{url}{bo.pk}/approve/")
    assert again.status_code == 409 and "denied already" in again.json()["detail"]
    assert len(mail.outbox) == 1
    assert [r["email"] for r in api.get(url, {"status": "approved"}).json()["results"]] == [
        "ana@buyer.example.com"
    ]
    assert api.get(url, {"status": "pending"}).json()["count"] == 0
    assert logged(org, "trust.trustrequest") == ["approve", "deny"]


def test_another_organizations_objects_are_404(owner, outsider, api_for, make_audit):
    ours = build_center(owner, make_audit)
    theirs = build_center(outsider, make_audit, slug="globex-trust")
    their_request = make_request(theirs)
    org = owner.organization
    api = api_for(owner)
    b = base(org)
    assert api.delete(f"{b}documents/{theirs['private'].pk}/").status_code == 404
    for verb in ("approve", "deny"):
        assert api.post(f"{b}requests/{their_request.pk}/{verb}/").status_code == 404
        assert api.post(f"{b}requests/{2**70}/{verb}/").status_code == 404
    their_version = theirs["public"].policy_version
    stolen = api.post(
        f"{b}documents/", {"title": "X", "visibility": "public", "policy_version": their_version.pk}
    )
    assert stolen.status_code == 400
    shown = api.patch(f"{b}settings/", {"audit": theirs["audit"].pk})
    assert shown.status_code == 400
    # Under their slug, we are nobody.
    for path in ("settings/", "controls/", "documents/", "requests/"):
        assert api.get(f"{base(outsider.organization)}{path}").status_code == 404
    their_request.refresh_from_db()
    assert their_request.status == "pending"
    assert (
        TrustDocument.objects.for_org(outsider.organization).filter(withdrawn_at=None).count() == 2
    )
    assert api.get(f"{b}documents/").json()["count"] == len([ours["public"], ours["private"]])


def _count(api, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url).status_code == 200
    return len(queries)


def test_the_lists_take_constant_queries(owner, api_for, make_audit, django_assert_max_num_queries):
    made = build_center(owner, make_audit)
    org = owner.organization
    api = api_for(owner)
    make_request(made)
    counts = {p: _count(api, f"{base(org)}{p}") for p in ("documents/", "requests/")}
    for i in range(5):
        make_request(made, f"v{i}@buyer.example.com")
        approved_version_doc = approved_version(org, f"Policy {i}")
        TrustDocument(
            organization=org,
            title=f"P{i}",
            visibility="public",
            policy_version=approved_version_doc,
        ).save()
    for path, count in counts.items():
        assert _count(api, f"{base(org)}{path}") == count, path
    for path in ("settings/", "controls/", "documents/", "requests/"):
        with django_assert_max_num_queries(12):
            assert api.get(f"{base(org)}{path}").status_code == 200
