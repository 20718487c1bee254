"""The policies API: adopt, settings, draft, submit, approve by the named approver (a person,
never a key), drafts hidden from others, every route 404 across organizations."""

from __future__ import annotations

import pytest

from policies.models import PolicyVersion, VersionState
from tenants.models import Role
from tests.api.conftest import org_url

pytestmark = pytest.mark.django_db


def test_the_life_of_a_policy_through_the_api(org, manager, approver, library, api_for):
    client = api_for(manager)
    listed = client.get(org_url(org, "policies/library/")).json()["results"]
    assert [e["key"] for e in listed] == ["access-control"] and listed[0]["adopted_policy"] is None
    created = client.post(org_url(org, "policies/"), {"library_key": "access-control"})
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["open_state"] == "draft" and created.json()["current_version"] is None
    patched = client.patch(org_url(org, f"policies/{pk}/"), {"approver": approver.pk})
    assert patched.status_code == 200 and patched.json()["approver"] == approver.pk
    draft = client.patch(
        org_url(org, f"policies/{pk}/draft/"), {"body": "# Text\n", "change_note": "API"}
    )
    assert draft.status_code == 200 and draft.json()["body"] == "# Text\n"
    assert client.post(org_url(org, f"policies/{pk}/submit/")).json()["state"] == "in_review"
    assert client.post(org_url(org, f"policies/{pk}/approve/")).status_code == 403
    approved = api_for(approver).post(org_url(org, f"policies/{pk}/approve/"))
    assert approved.status_code == 200 and approved.json()["state"] == VersionState.APPROVED
    assert len(approved.json()["sha256"]) == 64
    body = client.get(org_url(org, f"policies/{pk}/")).json()
    assert body["current_version"] == 1 and body["next_review_date"]
    again = client.post(org_url(org, f"policies/{pk}/versions/new/"))
    assert again.status_code == 201 and again.json()["number"] == 2


def test_bad_input_gets_a_clear_error(org, manager, library, api_for):
    client = api_for(manager)
    both = client.post(org_url(org, "policies/"), {"library_key": "x", "title": "T"})
    assert both.status_code == 400
    unknown = client.post(org_url(org, "policies/"), {"library_key": "nope"})
    assert unknown.status_code == 400 and "library" in unknown.json()["detail"].lower()
    typo = client.post(org_url(org, "policies/"), {"libary_key": "access-control"})
    assert typo.status_code == 400
    pk = client.post(org_url(org, "policies/"), {"library_key": "access-control"}).json()["id"]
    assert client.patch(org_url(org, f"policies/{pk}/"), {"approver": 10**9}).status_code == 400
    assert client.patch(org_url(org, f"policies/{pk}/draft/"), {"body": ""}).status_code == 400
    assert client.post(org_url(org, f"policies/{pk}/submit/")).status_code == 400  # no approver
    assert client.get(org_url(org, "policies/abc/")).status_code == 404


def test_keys_never_approve_and_readers_see_no_drafts(
    org, manager, approver, adopted, api_for, key_client, contributor
):
    admin_key = key_client(org, Role.ADMIN)
    api_for(manager).post(org_url(org, f"policies/{adopted.pk}/submit/"))
    assert admin_key.post(org_url(org, f"policies/{adopted.pk}/approve/")).status_code == 403
    reader = api_for(contributor)
    versions = reader.get(org_url(org, f"policies/{adopted.pk}/versions/")).json()["results"]
    assert versions == []
    assert reader.patch(
        org_url(org, f"policies/{adopted.pk}/draft/"), {"body": "x"}
    ).status_code in (403, 404)
    assert PolicyVersion.objects.for_org(org).get().body != "x"


def test_every_route_is_404_across_organizations(org, adopted, outsider, api_for):
    client = api_for(outsider)
    theirs = outsider.organization
    assert client.get(org_url(theirs, f"policies/{adopted.pk}/")).status_code == 404
    for verb, path in (
        ("patch", ""),
        ("get", "versions/"),
        ("post", "versions/new/"),
        ("patch", "draft/"),
        ("post", "submit/"),
        ("post", "approve/"),
        ("post", "return/"),
    ):
        response = getattr(client, verb)(org_url(theirs, f"policies/{adopted.pk}/{path}"), {})
        assert response.status_code == 404, (verb, path, response.status_code)
    assert client.get(org_url(org, "policies/")).status_code == 404
