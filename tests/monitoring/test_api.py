"""The monitoring API: connections (admins), pushing results (CI keys), checks and findings,
each refused across organizations."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from monitoring.models import Check, CheckRun, Connection, Finding, FindingState
from tenants.models import Role
from tests.api.conftest import org_url
from tests.monitoring.conftest import push

pytestmark = pytest.mark.django_db

BODY = {
    "check": {
        "key": "s3-encryption",
        "title": "S3 buckets are encrypted",
        "severity": "high",
        "criteria": ["CC6.1"],
    },
    "results": [
        {"resource": "bucket-a", "status": "fail", "details": {"encryption": None}},
        {"resource": "bucket-b", "status": "pass"},
    ],
}


def results_url(org, connection) -> str:
    return org_url(org, f"monitoring/connections/{connection.pk}/results/")


def test_admin_creates_a_connection_and_credentials_never_come_back(org, admin, api_for):
    client = api_for(admin)
    response = client.post(
        org_url(org, "monitoring/connections/"),
        {
            "kind": "github",
            "name": "GitHub",
            "credentials": "ghp_secret123",
            "config": {"organization": "acme"},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["has_credentials"] is True and "credentials" not in body
    listed = client.get(org_url(org, "monitoring/connections/")).json()["results"]
    assert [c["name"] for c in listed] == ["GitHub"]
    assert "ghp_secret123" not in str(listed)


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR])
def test_only_admins_manage_connections(org, make_member, api_for, role, connection):
    client = api_for(make_member(org, role))
    assert client.get(org_url(org, "monitoring/connections/")).status_code == 403
    created = client.post(org_url(org, "monitoring/connections/"), {"kind": "custom", "name": "x"})
    assert created.status_code == 403


def test_a_ci_key_pushes_results_and_a_finding_opens(org, connection, control, key_client):
    client = key_client(org, Role.COMPLIANCE_MANAGER)
    response = client.post(results_url(org, connection), BODY, HTTP_IDEMPOTENCY_KEY="push-0001")
    assert response.status_code == 201, response.json()
    assert response.json()["run"]["failed"] == 1
    assert response.json()["findings_opened"] == 1
    # The same key again: the stored answer, nothing written twice.
    again = client.post(results_url(org, connection), BODY, HTTP_IDEMPOTENCY_KEY="push-0001")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Finding.objects.for_org(org).count() == 1
    findings = client.get(org_url(org, "monitoring/findings/?state=open")).json()["results"]
    assert [(f["resource_id"], f["check_key"]) for f in findings] == [("bucket-a", "s3-encryption")]
    checks = client.get(org_url(org, "monitoring/checks/")).json()["results"]
    assert checks[0]["failing"] is True and checks[0]["open_findings"] == 1


def test_contributor_keys_cannot_push(org, connection, key_client):
    response = key_client(org, Role.CONTRIBUTOR).post(results_url(org, connection), BODY)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"check": BODY["check"]},
        {"check": BODY["check"], "results": []},
        {"check": BODY["check"], "results": [{"resource": "a", "status": "maybe"}]},
        {"check": {**BODY["check"], "severity": "urgent"}, "results": BODY["results"]},
        {"check": {**BODY["check"], "criteria": ["CC99.9"]}, "results": BODY["results"]},
        {"check": {**BODY["check"], "controls": ["NOPE"]}, "results": BODY["results"]},
        {"check": BODY["check"], "results": [{"resource": "a", "status": "fail", "x": 1}]},
        {"check": BODY["check"], "results": [{"resource": "a", "status": "fail", "details": 3}]},
        {
            "check": BODY["check"],
            "results": [{"resource": "a", "status": "fail", "details": {"k": "\x00"}}],
        },
        {
            "check": BODY["check"],
            "results": [{"resource": "a", "status": "fail", "details": {"k": "x" * 9000}}],
        },
        {"check": BODY["check"], "results": [{"resource": "a", "status": "pass"}] * 2},
        {
            "check": BODY["check"],
            "results": [{"resource": f"r{i}", "status": "pass"} for i in range(1001)],
        },
        {"check": "s3", "results": "all"},
        [],
    ],
)
def test_bad_pushes_are_clear_400s(org, connection, control, key_client, body):
    response = key_client(org, Role.ADMIN).post(results_url(org, connection), body)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]
    assert not Check.objects.for_org(org).exists()


def test_push_to_a_paused_or_non_custom_connection_is_refused(org, admin, api_for, key_client):
    client = api_for(admin)
    made = client.post(org_url(org, "monitoring/connections/"), {"kind": "aws", "name": "AWS"})
    aws = Connection.objects.for_org(org).get(pk=made.json()["id"])
    response = key_client(org, Role.ADMIN).post(results_url(org, aws), BODY)
    assert response.status_code == 400 and response.json()["code"] == "wrong_kind"


def test_contributors_see_only_their_controls_tests(
    org, manager, connection, control, contributor, make_member, api_for
):
    push(manager, connection, ("a", "fail"))  # CC6.1: the contributor's control
    push(manager, connection, ("b", "fail"), key="unmapped", criteria=())
    mine = api_for(contributor).get(org_url(org, "monitoring/checks/")).json()["results"]
    assert [c["key"] for c in mine] == ["s3-encryption"]
    other = make_member(org, Role.CONTRIBUTOR)
    assert api_for(other).get(org_url(org, "monitoring/checks/")).json()["results"] == []
    assert api_for(other).get(org_url(org, "monitoring/findings/")).json()["results"] == []
    everything = api_for(manager).get(org_url(org, "monitoring/checks/")).json()["results"]
    assert {c["key"] for c in everything} == {"s3-encryption", "unmapped"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "monitoring/connections/"),
        ("get", "monitoring/connections/{conn}/"),
        ("patch", "monitoring/connections/{conn}/"),
        ("delete", "monitoring/connections/{conn}/"),
        ("post", "monitoring/connections/{conn}/results/"),
        ("get", "monitoring/checks/"),
        ("get", "monitoring/checks/{check}/"),
        ("get", "monitoring/findings/"),
        ("get", "monitoring/findings/{finding}/"),
    ],
)
def test_another_organization_sees_nothing(
    org, manager, connection, control, outsider, api_for, key_client, method, path
):
    push(manager, connection, ("a", "fail"))
    ids = {
        "conn": connection.pk,
        "check": Check.objects.for_org(org).get().pk,
        "finding": Finding.objects.for_org(org).get().pk,
    }
    url = path.format(**ids)
    foreign = api_for(outsider)
    # Through the other organization's URL: "no such organization".
    assert getattr(foreign, method)(org_url(org, url), BODY).status_code == 404
    # Through its own URL with our ids: "no such ..." (or an empty list).
    own = getattr(key_client(outsider.organization, Role.ADMIN), method)(
        org_url(outsider.organization, url), BODY
    )
    if url.endswith("s/") and method == "get":
        assert own.status_code == 200 and own.json()["results"] == []
    else:
        assert own.status_code == 404
    assert Connection.objects.for_org(org).filter(pk=connection.pk).exists()
    assert Finding.objects.for_org(org).get().state == FindingState.OPEN


def test_lists_take_constant_queries(org, manager, connection, control, api_for):
    client = api_for(manager)

    def count(path: str) -> int:
        with CaptureQueriesContext(db_connection) as ctx:
            assert client.get(org_url(org, path)).status_code == 200
        return len(ctx.captured_queries)

    push(manager, connection, ("a", "fail"))
    small = (count("monitoring/checks/"), count("monitoring/findings/"))
    for i in range(5):
        push(manager, connection, *[(f"r{i}-{j}", "fail") for j in range(4)], key=f"k{i}")
    assert (count("monitoring/checks/"), count("monitoring/findings/")) == small


def test_a_push_is_stored_once_as_the_run_s_raw_output(org, connection, control, key_client):
    client = key_client(org, Role.COMPLIANCE_MANAGER)
    assert client.post(results_url(org, connection), BODY, format="json").status_code == 201
    run = CheckRun.objects.for_org(org).get()
    with run.output.open("rb") as f:
        stored = f.read()
    assert json.loads(stored) == BODY
    assert run.output_sha256 == hashlib.sha256(stored).hexdigest()
    assert run.output_size == len(stored) and run.output_name == "push-s3-encryption.json"
