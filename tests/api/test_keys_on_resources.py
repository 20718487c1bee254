"""The organization API driven by real API keys only (no session): roles, tenancy, queries."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.db import connection
from rest_framework.test import APIClient

from controls.models import Control
from evidence.models import EvidenceVersion
from tenants.apikeys import api_key_create
from tenants.models import ActivityEntry
from tests.api.conftest import org_url
from tests.factories import ControlFactory, control_map
from tests.reports.conftest import eager_celery  # noqa: F401  (fixtures)
from tests.webhook_receiver import allow_private, receiver, verify  # noqa: F401


def test_integration_flow_with_a_manager_key(
    org,
    key_for,
    make_audit,
    receiver,  # noqa: F811  (the fixtures imported above)
    allow_private,  # noqa: F811
    eager_celery,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    client = key_for(org, "compliance_manager")
    adopted = client.post(org_url(org, "controls/adopt/"), {"templates": ["GOV-01"]})
    assert adopted.status_code == 201, adopted.json()
    control = adopted.json()["adopted"][0]
    assert (
        client.patch(
            org_url(org, f"controls/{control['id']}/"), {"status": "implemented"}
        ).status_code
        == 200
    )
    pushed = client.post(
        org_url(org, f"controls/{control['id']}/evidence/"),
        {
            "kind": "data",
            "data": {"check": "policy signed", "ok": True},
            "effective_start": "2025-01-15",
        },
    )
    assert pushed.status_code == 201, pushed.json()
    assert pushed.json()["uploaded_by"].startswith("API key test-key-")
    review_url = org_url(org, f"evidence/versions/{pushed.json()['id']}/review/")
    # Independent review: the key that pushed the record cannot accept it; another one can.
    refused = client.post(review_url, {"decision": "accepted"})
    assert (refused.status_code, refused.json()["code"]) == (403, "self_review")
    review = key_for(org, "compliance_manager").post(review_url, {"decision": "accepted"})
    assert review.status_code == 200
    audit = make_audit(org, as_of=dt.date(2025, 3, 31))
    readiness = client.get(org_url(org, f"audits/{audit.pk}/readiness/")).json()
    assert readiness["controls"][0]["code"] == "GOV-01"
    assert readiness["controls"][0]["operating"] is True
    entries = ActivityEntry.objects.for_org(org).exclude(object_type="tenants.apikey")
    labels = set(entries.values_list("actor_label", flat=True))
    assert len(labels) == 2 and all(label.startswith("API key test-key-") for label in labels)

    # An admin key subscribes the integration's receiver; the report it then asks for is
    # announced there, signed, with the SHA-256 of the file it downloads.
    hook = key_for(org, "admin").post(
        org_url(org, "webhooks/"), {"url": receiver.url, "events": ["report.ready"]}
    )
    assert hook.status_code == 201, hook.json()
    with django_capture_on_commit_callbacks(execute=True):  # the task, then the delivery
        requested = client.post(org_url(org, f"audits/{audit.pk}/reports/"), {"kind": "csv"})
    assert requested.status_code == 202, requested.json()
    report = client.get(requested["Location"]).json()
    assert report["status"] == "done"
    downloaded = client.get(report["download_url"])
    assert hashlib.sha256(b"".join(downloaded.streaming_content)).hexdigest() == report["sha256"]
    event = verify(receiver.requests[-1], hook.json()["secret"])
    assert event["event"] == "report.ready"
    assert event["data"]["report"] == report["id"] and event["data"]["sha256"] == report["sha256"]


def test_read_only_key_reads_and_writes_nothing(org, key_for):
    client = key_for(org, "read_only")
    control = ControlFactory(organization=org, status="not_started")
    assert client.get(org_url(org, "controls/")).status_code == 200
    for method, path, body in [
        (
            "post",
            "controls/",
            {"code": "X-1", "title": "X", "control_type": "policy", "frequency": "annual"},
        ),
        ("patch", f"controls/{control.pk}/", {"status": "implemented"}),
        (
            "post",
            f"controls/{control.pk}/evidence/",
            {"kind": "link", "url": "https://x.example.com", "effective_start": "2025-01-01"},
        ),
        ("post", "systems/", {"name": "S"}),
    ]:
        response = getattr(client, method)(org_url(org, path), body)
        assert response.status_code == 403, (method, path, response.json())
    assert Control.objects.for_org(org).get().status == "not_started"
    assert not EvidenceVersion.objects.for_org(org).exists()


def test_contributor_key_pushes_evidence_but_manages_no_controls(org, key_for):
    client = key_for(org, "contributor")
    control = ControlFactory(organization=org)
    body = {"kind": "link", "url": "https://ci.example.com/run/1", "effective_start": "2025-01-01"}
    assert client.post(org_url(org, f"controls/{control.pk}/evidence/"), body).status_code == 201
    assert (
        client.patch(org_url(org, f"controls/{control.pk}/"), {"status": "in_progress"}).status_code
        == 403
    )


def test_a_key_never_reaches_another_organization(org, other_org, key_for):
    theirs = ControlFactory(organization=other_org)
    client = key_for(org, "admin")
    assert client.get(org_url(other_org, "controls/")).status_code == 404
    assert client.get(org_url(org, f"controls/{theirs.pk}/")).status_code == 404
    assert client.get(org_url(org, f"controls/{theirs.pk}/evidence/")).status_code == 404


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("made_by", ["system", "member"])
def test_list_queries_with_a_key(
    org, key_for, time_boxed_owner, made_by, rows, django_assert_num_queries
):
    if made_by == "system":
        client = key_for(org, "read_only")
    else:
        _, plaintext = api_key_create(membership=time_boxed_owner, name="ci", role="read_only")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    for n in range(rows):
        control_map(ControlFactory(organization=org, code=f"K-{n:02d}"), "CC6.1")
    client.get(org_url(org, "controls/"))  # records the key's last use (once a minute)
    # key with its organization (and its creator's standing), the page with its count and
    # (PostgreSQL) criteria; elsewhere the criteria in one more query
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 3):
        response = client.get(org_url(org, "controls/"), {"page_size": 50})
    assert len(response.json()["results"]) == rows
