"""Evidence API: a control's items and versions, adding files, links and data, review."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.models import EvidenceItem, EvidenceVersion
from tenants.models import ActivityEntry
from tests.api.conftest import org_url
from tests.evidence.conftest import HTML, pdf_bytes
from tests.factories import ControlFactory, EvidenceItemFactory, evidence_row

DAY = "2025-03-31"


@pytest.fixture
def control(org, contributor):
    return ControlFactory(organization=org, owner=contributor, code="AC-1")


def _evidence_url(org, control) -> str:
    return org_url(org, f"controls/{control.pk}/evidence/")


def _upload(client, url, data: bytes, name: str = "review.pdf", **fields):
    body = {"file": SimpleUploadedFile(name, data), "effective_start": DAY, **fields}
    return client.post(url, body, format="multipart")


def test_upload_a_file_then_a_new_version(api, org, control):
    url = _evidence_url(org, control)
    content = pdf_bytes("q1")
    response = _upload(api, url, content, title="Q1 access review", effective_end="2025-04-02")
    assert response.status_code == 201, response.json()
    first = response.json()
    assert first["kind"] == "file" and first["number"] == 1 and first["control"] == control.pk
    assert first["sha256"] == hashlib.sha256(content).hexdigest()
    assert first["size"] == len(content) and first["content_type"] == "application/pdf"
    assert first["effective_end"] == "2025-04-02" and first["review_state"] == "pending"
    assert first["download_url"].endswith(
        f"/o/{org.slug}/evidence/versions/{first['id']}/download/"
    )
    assert "file" not in first and first["data"] is None  # no bytes inline
    second = _upload(api, url, pdf_bytes("q1 fixed"), item=first["item"]).json()
    assert second["item"] == first["item"] and second["number"] == 2
    listing = api.get(url).json()
    assert listing["count"] == 1
    item = listing["results"][0]
    assert item["title"] == "Q1 access review"
    assert [v["number"] for v in item["versions"]] == [2, 1]


def test_link_and_data_as_json(api, org, control):
    url = _evidence_url(org, control)
    link = api.post(
        url, {"kind": "link", "url": "https://tickets.example.com/42", "effective_start": DAY}
    )
    assert link.status_code == 201 and link.json()["url"] == "https://tickets.example.com/42"
    assert link.json()["download_url"] is None
    record = {"check": "mfa", "passed": True}
    data = api.post(
        url, {"kind": "data", "data": record, "effective_start": DAY, "title": "MFA check"}
    )
    assert data.status_code == 201, data.json()
    version = data.json()
    assert version["data"] == record and version["item_title"] == "MFA check"
    # The creation answer adds the upload's warnings (none here) to the version's detail.
    assert version.pop("warnings") == []
    assert api.get(org_url(org, f"evidence/versions/{version['id']}/")).json() == version


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://x.example.com"}, "kind"),
        ({"kind": "file", "url": "https://x.example.com"}, "kind"),
        ({"kind": "link", "url": "javascript:alert(1)"}, "url"),
        (
            {"kind": "link", "url": "https://x.example.com", "effective_start": "2999-01-01"},
            "effective_start",
        ),
        (
            {"kind": "link", "url": "https://x.example.com", "effective_start": "31/03/2025"},
            "effective_start",
        ),
        (
            {"kind": "link", "url": "https://x.example.com", "effective_end": "2025-01-01"},
            "effective_end",
        ),
        ({"kind": "link", "url": "https://x.example.com", "sha256": "0" * 64}, "sha256"),
        ({"kind": "data", "data": {}}, "data"),
        ({"kind": "data", "data": "text"}, "data"),
        ({"kind": "link", "url": "https://x.example.com", "item": 10**30}, "item"),
    ],
)
def test_refusals_name_the_field(api, org, control, body, field):
    response = api.post(_evidence_url(org, control), {"effective_start": DAY, **body})
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not EvidenceVersion.objects.for_org(org).exists()


def test_refused_upload_leaves_no_file(api, org, control):
    response = _upload(api, _evidence_url(org, control), HTML, name="report.pdf")
    assert response.status_code == 400 and "file" in response.json()["errors"]
    media = settings.MEDIA_ROOT
    assert not os.path.exists(media) or not any(files for _, _, files in os.walk(media))
    missing = api.post(_evidence_url(org, control), {"effective_start": DAY}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["errors"]


def test_item_of_another_control_or_organization_is_404(api, org, other_org, control):
    mine_elsewhere = EvidenceItemFactory(control=ControlFactory(organization=org))
    theirs = EvidenceItemFactory(control=ControlFactory(organization=other_org))
    for item in (mine_elsewhere, theirs):
        response = api.post(
            _evidence_url(org, control),
            {
                "kind": "link",
                "url": "https://x.example.com",
                "effective_start": DAY,
                "item": item.pk,
            },
        )
        assert response.status_code == 404
    assert not EvidenceVersion.objects.for_org(org).exists()


def test_contributor_adds_evidence_to_own_controls_only(org, contributor, api_for, control):
    client = api_for(contributor)
    body = {"kind": "link", "url": "https://x.example.com", "effective_start": DAY}
    assert client.post(_evidence_url(org, control), body).status_code == 201
    other = ControlFactory(organization=org)
    refused = client.post(_evidence_url(org, other), body)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert EvidenceItem.objects.for_org(org).filter(control=other).count() == 0


def test_auditor_reads_adds_and_reviews_nothing(org, auditor, api_for, control):
    client = api_for(auditor)
    version = evidence_row(control, dt.date(2025, 1, 1), state="pending")
    # Auditors read in the auditor portal only: the API refuses them even reads.
    assert client.get(_evidence_url(org, control)).status_code == 403
    body = {"kind": "link", "url": "https://x.example.com", "effective_start": DAY}
    assert client.post(_evidence_url(org, control), body).status_code == 403
    review = org_url(org, f"evidence/versions/{version.pk}/review/")
    assert client.post(review, {"decision": "accepted"}).status_code == 403
    version.refresh_from_db()
    assert version.review_state == "pending"
    assert EvidenceVersion.objects.for_org(org).count() == 1


def test_outsider_gets_404_everywhere(org, outsider, api_for, control):
    client = api_for(outsider)
    version = evidence_row(control, dt.date(2025, 1, 1), state="pending")
    body = {"kind": "link", "url": "https://x.example.com", "effective_start": DAY}
    own = outsider.organization
    for base in (org, own):
        assert client.get(_evidence_url(base, control)).status_code == 404
        assert client.post(_evidence_url(base, control), body).status_code == 404
        assert client.get(org_url(base, f"evidence/versions/{version.pk}/")).status_code == 404
        review = org_url(base, f"evidence/versions/{version.pk}/review/")
        assert client.post(review, {"decision": "accepted"}).status_code == 404
    version.refresh_from_db()
    assert version.review_state == "pending"


def test_review(api, org, contributor, api_for, control):
    version = evidence_row(control, dt.date(2025, 1, 1), state="pending")
    url = org_url(org, f"evidence/versions/{version.pk}/review/")
    assert api_for(contributor).post(url, {"decision": "accepted"}).status_code == 403
    no_reason = api.post(url, {"decision": "rejected"})
    assert no_reason.status_code == 400 and "comment" in no_reason.json()["errors"]
    assert api.post(url, {"decision": "pending"}).status_code == 400
    accepted = api.post(url, {"decision": "accepted", "comment": "Looks right"})
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["review_state"] == "accepted"
    assert accepted.json()["review_comment"] == "Looks right"
    version.refresh_from_db()
    assert version.review_state == "accepted"


@pytest.mark.parametrize("rows", [3, 30])
def test_list_queries_do_not_grow(api, org, control, rows, django_assert_num_queries):
    for n in range(rows):
        item = EvidenceItemFactory(control=control)
        evidence_row(control, dt.date(2025, 1, 1) + dt.timedelta(days=n), item=item)
        evidence_row(control, dt.date(2025, 2, 1), item=item, state="pending")
    # session, user, membership + organization, control (with owner, user), items,
    # versions (with uploader and reviewer)
    with django_assert_num_queries(6):
        response = api.get(_evidence_url(org, control), {"page_size": 50})
    assert len(response.json()["results"]) == rows


def test_unknown_control_is_404(api, org):
    for bad in (0, "abc", 10**30):
        assert api.get(org_url(org, f"controls/{bad}/evidence/")).status_code == 404


def test_a_non_string_kind_is_a_400_not_a_500(org, manager, catalog):
    """Found by schemathesis: {"kind": {}} once reached a dict lookup with a dict key."""
    from rest_framework.test import APIClient

    from tests.factories import ControlFactory

    control = ControlFactory(organization=org, owner=manager)
    client = APIClient()
    client.force_login(manager.user)
    response = client.post(
        f"/api/v1/orgs/{org.slug}/controls/{control.pk}/evidence/",
        {"kind": {}, "effective_start": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_download_a_file_data_or_link(api, org, control, auditor, outsider, api_for):
    content = pdf_bytes("download")
    file_version = _upload(api, _evidence_url(org, control), content, name="Q1 review.pdf").json()
    url = org_url(org, f"evidence/versions/{file_version['id']}/download/")
    assert api.head(url).status_code == 200  # a HEAD fetches nothing: nothing recorded
    response = api.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith('attachment; filename="Q1 review.pdf"')
    downloads = ActivityEntry.objects.for_org(org).filter(action="download")
    assert downloads.count() == 1
    record = {"check": "mfa", "passed": True}
    data = api.post(
        _evidence_url(org, control),
        {"kind": "data", "data": record, "title": "MFA", "effective_start": DAY},
    ).json()
    response = api.get(org_url(org, f"evidence/versions/{data['id']}/download/"))
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == data["sha256"]
    link = api.post(
        _evidence_url(org, control),
        {"kind": "link", "url": "https://x.example.com", "effective_start": DAY},
    ).json()
    refused = api.get(org_url(org, f"evidence/versions/{link['id']}/download/"))
    assert refused.status_code == 409 and refused.json()["code"] == "no_file"
    # Auditors read in the portal only; another organization's member finds nothing.
    assert api_for(auditor).get(url).status_code == 403
    assert api_for(outsider).get(url).status_code == 404
    assert downloads.count() == 2
