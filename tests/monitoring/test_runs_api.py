"""The runs API: a connection's runs (list, run now), test, a run and its Retry; settings
cleaned per kind; roles, keys and another organization's ids."""

from __future__ import annotations

import pytest

from monitoring import runs
from monitoring.models import CheckRun, Connection, ConnectionKind
from monitoring.run_worker import run_execute
from monitoring.services import connection_create
from tenants.models import Role
from tests.api.conftest import org_url
from tests.monitoring.collectors_fake import FAKE, GOOD, MODES

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fake_collector(settings):
    settings.MONITORING_EXTRA_COLLECTORS = [FAKE]


@pytest.fixture
def gh(org, admin) -> Connection:
    return connection_create(
        membership=admin,
        kind=ConnectionKind.GITHUB,
        name="Fake GitHub",
        credentials=GOOD,
        config={"account": "acme", "mode": "error"},
    )


def test_run_now_list_detail_and_retry(org, gh, key_client):
    client = key_client(org, Role.COMPLIANCE_MANAGER)  # a CI job may start runs
    base = org_url(org, f"monitoring/connections/{gh.pk}/runs/")
    started = client.post(base)
    assert started.status_code == 202, started.json()
    body = started.json()
    assert body["started"] is True and body["run"]["status"] == "queued"
    again = client.post(base)
    assert again.status_code == 202 and again.json()["started"] is False
    assert "one run at a time" in again.json()["message"]

    run_execute(run_id=body["run"]["id"])
    detail = client.get(org_url(org, f"monitoring/runs/{body['run']['id']}/")).json()
    assert detail["status"] == "failed" and "401" in detail["failure_reason"]
    assert detail["source"] == "manual" and detail["output"] is None
    assert client.get(base).json()["results"][0]["id"] == detail["id"]

    retried = client.post(org_url(org, f"monitoring/runs/{detail['id']}/retry/"))
    assert retried.status_code == 202 and retried.json()["run"]["id"] != detail["id"]
    finished = client.post(org_url(org, f"monitoring/runs/{retried.json()['run']['id']}/retry/"))
    assert finished.status_code == 409


def test_a_finished_run_names_its_output(org, admin, gh, api_for):
    Connection.objects.for_org(org).filter(pk=gh.pk).update(config={"account": "a", "mode": "pass"})
    gh.refresh_from_db()
    run = run_execute(run_id=runs.run_start(principal=admin, connection=gh).run.pk)
    detail = api_for(admin).get(org_url(org, f"monitoring/runs/{run.pk}/")).json()
    assert detail["output"] == {
        "name": "fake.json",
        "sha256": run.output_sha256,
        "size": run.output_size,
    }


def test_test_connection(org, gh, connection, api_for, admin):
    client = api_for(admin)
    said = client.post(org_url(org, f"monitoring/connections/{gh.pk}/test/")).json()
    assert said == {"ok": True, "message": "Signed in to acme: eu-west-1."}
    pushed = client.post(org_url(org, f"monitoring/connections/{connection.pk}/test/")).json()
    assert pushed["ok"] and "pushed through the API" in pushed["message"]


def test_custom_connections_have_nothing_to_run(org, connection, api_for, admin):
    response = api_for(admin).post(org_url(org, f"monitoring/connections/{connection.pk}/runs/"))
    assert response.status_code == 400 and response.json()["code"] == "wrong_kind"


def test_settings_are_cleaned_for_the_kind(org, api_for, admin):
    client = api_for(admin)
    url = org_url(org, "monitoring/connections/")
    base = {"kind": "github", "name": "Org", "credentials": GOOD}
    unknown = client.post(url, {**base, "config": {"account": "a", "colour": "red"}})
    assert unknown.status_code == 400 and "no setting colour" in unknown.json()["detail"]
    bad = client.post(url, {**base, "config": {"account": "a", "mode": "nope"}})
    assert bad.status_code == 400 and bad.json()["errors"] == {
        "config.mode": ["Mode: 'nope' is not one of " + ", ".join(MODES) + "."]
    }
    missing = client.post(url, {**base, "config": {"regions": ["x"]}})
    assert missing.status_code == 400 and "Account is required." in missing.json()["detail"]
    made = client.post(url, {**base, "config": {"account": "a", "regions": ["x", "x", " y "]}})
    assert made.status_code == 201
    assert made.json()["config"] == {"account": "a", "mode": "fail", "regions": ["x", "y"]}
    pk = made.json()["id"]
    patched = client.patch(f"{url}{pk}/", {"config": {"account": "b"}})
    assert patched.json()["config"]["account"] == "b"
    nested = client.patch(f"{url}{pk}/", {"config": {"account": {"x": 1}}})
    assert nested.status_code == 400


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_contributors_and_auditors_cannot_run_or_test(org, admin, gh, make_member, api_for, role):
    run = run_execute(run_id=runs.run_start(principal=admin, connection=gh).run.pk)
    client = api_for(make_member(org, role))
    assert client.post(org_url(org, f"monitoring/connections/{gh.pk}/runs/")).status_code == 403
    assert client.get(org_url(org, f"monitoring/connections/{gh.pk}/runs/")).status_code == 403
    assert client.post(org_url(org, f"monitoring/connections/{gh.pk}/test/")).status_code == 403
    assert client.get(org_url(org, f"monitoring/runs/{run.pk}/")).status_code == 403
    assert client.post(org_url(org, f"monitoring/runs/{run.pk}/retry/")).status_code == 403
    assert runs_count(org) == 1


def runs_count(org) -> int:
    return CheckRun.objects.for_org(org).count()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "monitoring/connections/{conn}/runs/"),
        ("post", "monitoring/connections/{conn}/runs/"),
        ("post", "monitoring/connections/{conn}/test/"),
        ("get", "monitoring/runs/{run}/"),
        ("post", "monitoring/runs/{run}/retry/"),
    ],
)
def test_another_organization_gets_404(
    org, admin, gh, other_org, make_member, api_for, key_client, method, path
):
    run = run_execute(run_id=runs.run_start(principal=admin, connection=gh).run.pk)
    url = path.format(conn=gh.pk, run=run.pk)
    foreign = api_for(make_member(other_org, Role.ADMIN))
    assert getattr(foreign, method)(org_url(org, url)).status_code == 404
    own = getattr(key_client(other_org, Role.ADMIN), method)(org_url(other_org, url))
    assert own.status_code == 404
    assert runs_count(org) == 1
