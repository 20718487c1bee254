"""The roster API: managers and their keys only, 404 across organizations, filters, create,
PATCH, end, and the CSV import with dry_run."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from people import services
from people.models import Person
from tenants.models import Role
from tests.people.conftest import START, csv_bytes

pytestmark = pytest.mark.django_db


def base(org) -> str:
    return f"/api/v1/orgs/{org.slug}/people/"


def test_managers_keys_manage_people_and_others_are_refused(org, key_client, contributor, api_for):
    for role in (Role.ADMIN, Role.COMPLIANCE_MANAGER):
        client = key_client(org, role)
        made = client.post(
            base(org),
            {
                "full_name": f"Ada {role}",
                "email": f"ADA-{role}@Example.com",
                "start_date": "2025-01-06",
            },
        )
        assert made.status_code == 201, made.json()
        assert made.json()["email"] == f"ada-{role}@example.com"
    for client in (
        key_client(org, "read_only"),
        key_client(org, Role.CONTRIBUTOR),
        api_for(contributor),
    ):
        assert client.get(base(org)).status_code == 403
        assert client.post(base(org), {}).status_code == 403


def test_another_organizations_roster_is_not_found(
    org, other_org, add, outsider, key_client, api_for, manager
):
    theirs = services.person_create(
        membership=outsider, full_name="Theirs", email="t@example.com", start_date=START
    )
    client = api_for(manager)
    for path in (f"{base(org)}{theirs.pk}/", f"{base(org)}{theirs.pk}/end/"):
        assert client.get(path).status_code in (404, 405)
        assert client.post(path, {"end_date": "2025-02-01"}).status_code in (404, 405)
    assert client.patch(f"{base(org)}{theirs.pk}/", {"title": "x"}).status_code == 404
    assert client.get(base(other_org)).status_code == 404
    assert client.post(f"{base(other_org)}import/", {}).status_code == 404
    assert key_client(org, Role.ADMIN).get(f"{base(other_org)}{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.end_date is None and theirs.title == ""
    # A manager id of another organization is "no such person".
    ours = add("Ada")
    moved = client.patch(f"{base(org)}{ours.pk}/", {"manager": theirs.pk})
    assert moved.status_code == 400 and moved.json()["errors"] == {
        "manager": ["No such person on the roster."]
    }


def test_list_filters_patch_and_end(org, add, api_for, manager):
    client = api_for(manager)
    boss = add("Boss", department="Eng")
    ada = add("Ada", department="Eng", manager=boss)
    add("Cy", department="Sales", employment_type="contractor")
    rows = client.get(base(org), {"department": "Eng"}).json()["results"]
    assert [r["full_name"] for r in rows] == ["Ada", "Boss"]
    assert rows[0]["manager_email"] == "boss@example.com"
    assert client.get(base(org), {"employment_type": "bogus"}).status_code == 400
    patched = client.patch(f"{base(org)}{ada.pk}/", {"title": "CTO", "manager": None})
    assert patched.status_code == 200 and patched.json()["manager"] is None
    bad = client.post(f"{base(org)}{ada.pk}/end/", {"end_date": "2024-12-31"})
    assert bad.status_code == 400 and "before the start date" in bad.json()["detail"]
    ended = client.post(f"{base(org)}{ada.pk}/end/", {"end_date": "2025-03-31"})
    assert ended.json()["end_date"] == "2025-03-31"
    leavers = client.get(base(org), {"state": "leavers", "date_from": "2025-03-01"}).json()
    assert [r["full_name"] for r in leavers["results"]] == ["Ada"]
    with CaptureQueriesContext(connection) as few:
        client.get(base(org))
    for i in range(20):
        add(f"P{i}", email=f"p{i}@example.com", manager=boss)
    with CaptureQueriesContext(connection) as many:
        client.get(base(org))
    assert len(many) == len(few)


def _import(client: APIClient, org, data: bytes, **extra):
    return client.post(
        f"{base(org)}import/",
        {"file": SimpleUploadedFile("hr.csv", data, "text/csv"), **extra},
        format="multipart",
    )


def test_import_dry_run_lists_row_errors_and_writes_nothing(org, key_client):
    client = key_client(org, Role.COMPLIANCE_MANAGER)
    bad = csv_bytes("Ada,ada@example.com,2025-01-06,,", "Bob,bob,2025-01-06,,")
    dry = _import(client, org, bad, dry_run="true")
    assert dry.status_code == 200
    assert dry.json()["ok"] is False and dry.json()["errors"] == [
        {"row": 3, "column": "email", "message": "'bob' is not an e-mail address."}
    ]
    refused = _import(client, org, bad)
    assert refused.status_code == 400 and refused.json()["error_count"] == 1
    good = csv_bytes("Ada,ada@example.com,2025-01-06,,")
    assert _import(client, org, good, dry_run="true").json()["created"] == 1
    assert not Person.objects.for_org(org).exists()
    done = _import(client, org, good)
    assert done.status_code == 200 and done.json()["created"] == 1
    assert Person.objects.for_org(org).get().email == "ada@example.com"
    assert key_client(org, "read_only").post(f"{base(org)}import/", {}).status_code == 403
