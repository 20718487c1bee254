"""The checklists API: templates (read, replace items), checklists (list with filters,
detail), items (done with JSON or a file, reopen); managers and their keys, contributors for
their own items, 404 across organizations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from people import services
from people.models_checklists import ChecklistItem
from tenants.models import Role
from tests.factories import ControlFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def base(org, what: str) -> str:
    return f"/api/v1/orgs/{org.slug}/{what}/"


@pytest.fixture
def leaver(org, manager, contributor, add):
    ControlFactory(organization=org, owner=contributor, code="IAM-05", frequency="monthly")
    person = add("Bob Builder", start_date=dt.date(2024, 1, 8))
    services.person_end(membership=manager, person=person, end_date=TODAY - dt.timedelta(days=10))
    return person


def item(org, title: str) -> ChecklistItem:
    return ChecklistItem.objects.for_org(org).get(title=title)


def test_templates_are_read_and_replaced_by_managers(org, key_client, api_for, contributor):
    client = key_client(org, Role.COMPLIANCE_MANAGER)
    listed = client.get(base(org, "checklist-templates"))
    assert listed.status_code == 200, listed.json()
    kinds = [t["kind"] for t in listed.json()["results"]]
    assert kinds == ["onboarding", "offboarding"]
    one = client.get(base(org, "checklist-templates") + "offboarding/").json()
    assert one["items"][0]["title"] == "Accounts revoked" and one["items"][0]["business_days"]
    body = {"items": [{"title": "Revoke VPN", "due_days": 1, "business_days": True}]}
    put = client.put(base(org, "checklist-templates") + "offboarding/", body)
    assert put.status_code == 200, put.json()
    assert [i["title"] for i in put.json()["items"]] == ["Revoke VPN"]
    bad = client.put(
        base(org, "checklist-templates") + "offboarding/",
        {"items": [{"title": "X", "due_days": 0, "owner": 999999}]},
    )
    assert bad.status_code == 400 and "owner" in bad.json()["detail"]
    assert (
        client.put(base(org, "checklist-templates") + "offboarding/", {"items": []}).status_code
        == 400
    )
    assert (
        client.put(
            base(org, "checklist-templates") + "offboarding/", {"items": [], "x": 1}
        ).status_code
        == 400
    )
    assert client.get(base(org, "checklist-templates") + "nope/").status_code == 404
    for other in (
        key_client(org, "read_only"),
        key_client(org, Role.CONTRIBUTOR),
        api_for(contributor),
    ):
        assert other.get(base(org, "checklist-templates")).status_code == 403
        assert other.put(base(org, "checklist-templates") + "offboarding/", body).status_code == 403


def test_checklists_list_with_filters_and_detail(
    org, key_client, add, leaver, api_for, contributor
):
    client = key_client(org, Role.ADMIN)
    counts = []
    for n in (2, 8):
        for i in range(n):
            add(f"J{n}x{i} Joiner", start_date=TODAY + dt.timedelta(days=10 + i))
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(base(org, "checklists"))
        assert page.status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    assert page.json()["count"] == 11
    late = client.get(base(org, "checklists") + "?late=true").json()["results"]
    assert [(c["person_name"], c["kind"]) for c in late] == [("Bob Builder", "offboarding")]
    assert late[0]["late_count"] == 4 and late[0]["open_count"] == 4
    assert client.get(base(org, "checklists") + "?kind=offboarding").json()["count"] == 1
    assert client.get(base(org, "checklists") + "?kind=bad").status_code == 400
    detail = client.get(base(org, "checklists") + f"{late[0]['id']}/").json()
    revoke = detail["items"][0]
    assert (
        revoke["title"] == "Accounts revoked"
        and revoke["late"]
        and revoke["control_code"] == "IAM-05"
    )
    for other in (key_client(org, "read_only"), api_for(contributor)):
        assert other.get(base(org, "checklists")).status_code == 403


def test_items_done_and_reopened_by_role(
    org, key_client, api_for, contributor, make_member, leaver
):
    revoke, equipment = item(org, "Accounts revoked"), item(org, "Company equipment returned")
    done = base(org, "checklist-items") + f"{revoke.pk}/done/"
    mine = api_for(contributor)
    assert mine.post(done, {"done_on": TODAY.isoformat()}).status_code == 400  # evidence
    refused = mine.post(done, {"done_on": (TODAY + dt.timedelta(days=1)).isoformat()})
    assert refused.status_code == 400 and "future" in refused.json()["detail"]
    upload = mine.post(
        done,
        {"done_on": TODAY.isoformat(), "file": SimpleUploadedFile("a.txt", b"disabled\n")},
        format="multipart",
    )
    assert upload.status_code == 200, upload.json()
    assert upload.json()["late"] and upload.json()["evidence_version"]
    assert mine.post(done, {"done_on": TODAY.isoformat()}).status_code == 409
    # Not theirs: not found. Reopening: managers.
    assert (
        mine.post(
            base(org, "checklist-items") + f"{equipment.pk}/done/", {"done_on": TODAY.isoformat()}
        ).status_code
        == 404
    )
    assert mine.post(base(org, "checklist-items") + f"{revoke.pk}/reopen/").status_code == 403
    for other in (key_client(org, "read_only"), key_client(org, Role.CONTRIBUTOR)):
        assert other.post(
            base(org, "checklist-items") + f"{equipment.pk}/done/", {"done_on": TODAY.isoformat()}
        ).status_code in (403, 404)
    auditor = api_for(make_member(org, Role.AUDITOR))
    assert (
        auditor.post(
            base(org, "checklist-items") + f"{equipment.pk}/done/", {"done_on": TODAY.isoformat()}
        ).status_code
        == 403
    )
    manager = key_client(org, Role.COMPLIANCE_MANAGER)
    ok = manager.post(
        base(org, "checklist-items") + f"{equipment.pk}/done/",
        {"done_on": TODAY.isoformat(), "note": "Laptop back"},
    )
    assert ok.status_code == 200 and ok.json()["note"] == "Laptop back"
    again = manager.post(base(org, "checklist-items") + f"{revoke.pk}/reopen/")
    assert again.status_code == 200 and again.json()["done_on"] is None
    assert manager.post(base(org, "checklist-items") + "abc/done/", {}).status_code == 404


def test_another_organizations_checklists_are_not_found(
    org, other_org, outsider, key_client, leaver
):
    theirs = services.person_create(
        membership=outsider,
        full_name="Theirs",
        email="t@example.com",
        start_date=TODAY + dt.timedelta(days=3),
    )
    their_item = ChecklistItem.objects.for_org(other_org).filter(checklist__person=theirs).first()
    client = key_client(org, Role.ADMIN)
    assert client.get(base(org, "checklists") + f"{their_item.checklist_id}/").status_code == 404
    for action in ("done", "reopen"):
        answer = client.post(
            base(org, "checklist-items") + f"{their_item.pk}/{action}/",
            {"done_on": TODAY.isoformat()},
        )
        assert answer.status_code == 404
    assert client.get(base(org, "checklist-items") + f"{their_item.pk}/").status_code == 404
    listed = client.get(base(org, "checklists") + "?state=all").json()["results"]
    assert "Theirs" not in {c["person_name"] for c in listed}
    # Their key cannot read ours either.
    ours = item(org, "Accounts revoked")
    assert (
        key_client(other_org, Role.ADMIN)
        .get(base(org, "checklist-items") + f"{ours.pk}/")
        .status_code
        == 404
    )
