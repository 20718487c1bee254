"""An integration's page and its actions in the browser: runs listed (constant queries),
Run now, Test connection, Retry, the raw output, the change form with the kind's settings;
who may do what, and another organization's ids answer 404."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring import runs
from monitoring.models import CheckRun, Connection, ConnectionKind, RunStatus
from monitoring.run_worker import run_execute
from monitoring.services import connection_create
from tenants.models import ActivityEntry, Role
from tests.monitoring.collectors_fake import FAKE, GOOD

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
        config={"account": "acme", "mode": "fail", "regions": ["eu-west-1", "us-east-1"]},
    )


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_the_page_lists_runs_with_their_output_in_constant_queries(
    org, admin, gh, control, client_for
):
    client = client_for(admin)

    def count() -> tuple[int, str]:
        with CaptureQueriesContext(db_connection) as ctx:
            response = client.get(url("monitoring_connection", org, pk=gh.pk))
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    first = run_execute(run_id=runs.run_start(principal=admin, connection=gh).run.pk)
    count()  # the first request of a session reads more (its session, its membership)
    small, page = count()
    assert "1 passed, 1 failed" in page and first.output_sha256 in page
    assert "eu-west-1, us-east-1" in page and GOOD not in page
    for _ in range(6):
        run_execute(run_id=runs.run_start(principal=admin, connection=gh).run.pk)
    runs.run_start(principal=admin, connection=gh)  # one queued: its row polls
    large, page = count()
    assert large == small
    assert page.count('class="run-row"') == 8 and page.count('hx-trigger="every 3s"') == 1


def test_run_now_then_again_says_one_at_a_time(org, admin, gh, client_for):
    client = client_for(admin)
    response = client.post(url("monitoring_run_start", org, pk=gh.pk), follow=True)
    assert "run started" in response.content.decode()
    again = client.post(url("monitoring_run_start", org, pk=gh.pk), follow=True).content.decode()
    assert "is already queued" in again and "one run at a time" in again
    assert CheckRun.objects.for_org(org).count() == 1


def test_a_failed_run_shows_its_reason_and_retry_starts_another(org, admin, gh, client_for):
    Connection.objects.for_org(org).filter(pk=gh.pk).update(
        config={"account": "acme", "mode": "leak"}
    )
    gh.refresh_from_db()
    failed = run_execute(run_id=runs.run_start(principal=admin, connection=gh).run.pk)
    client = client_for(admin)
    page = client.get(url("monitoring_connection", org, pk=gh.pk)).content.decode()
    assert "Refused token [hidden] for acme" in page and GOOD not in page
    assert url("monitoring_run_retry", org, pk=failed.pk) in page
    client.post(url("monitoring_run_retry", org, pk=failed.pk))
    assert CheckRun.objects.for_org(org).filter(status=RunStatus.QUEUED).count() == 1


def test_test_connection_says_whether_it_works(org, admin, gh, connection, client_for):
    client = client_for(admin)
    said = client.post(url("monitoring_connection_test", org, pk=gh.pk), follow=True)
    assert "Fake GitHub works. Signed in to acme" in said.content.decode()
    pushed = client.post(url("monitoring_connection_test", org, pk=connection.pk), follow=True)
    assert "Results are pushed through the API" in pushed.content.decode()


def test_the_raw_output_downloads_as_stored_and_is_logged(org, admin, gh, manager, client_for):
    run = run_execute(run_id=runs.run_start(principal=admin, connection=gh).run.pk)
    response = client_for(manager).get(url("monitoring_run_output", org, pk=run.pk))
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == run.output_sha256 and len(body) == run.output_size
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert ActivityEntry.objects.for_org(org).filter(action="download").count() == 1


def test_adding_an_integration_cleans_its_kind_s_settings(org, admin, client_for):
    client = client_for(admin)
    form = client.get(url("monitoring_connection_add", org)).content.decode()
    assert 'data-kind="github"' in form and 'name="config-github-regions"' in form
    base = {"kind": "github", "name": "Org", "schedule": "daily", "credentials": GOOD}
    missing = client.post(url("monitoring_connection_add", org), base)
    assert missing.status_code == 400 and "Account is required." in missing.content.decode()
    wrong = client.post(
        url("monitoring_connection_add", org),
        {**base, "config-github-account": "acme", "config-github-mode": "nope"},
    )
    assert wrong.status_code == 400  # not a choice of the form's field
    added = client.post(
        url("monitoring_connection_add", org),
        {**base, "config-github-account": " acme ", "config-github-regions": "a\nb\n\na"},
    )
    conn = Connection.objects.for_org(org).get()
    assert added.status_code == 302 and added["Location"].endswith(f"/connections/{conn.pk}/")
    assert conn.config == {"account": "acme", "mode": "fail", "regions": ["a", "b"]}
    assert conn.next_run_at is not None and conn.credentials.reveal() == GOOD


def test_changing_an_integration_keeps_credentials_unless_replaced(org, admin, gh, client_for):
    client = client_for(admin)
    form = client.get(url("monitoring_connection_edit", org, pk=gh.pk)).content.decode()
    assert "eu-west-1\nus-east-1" in form and GOOD not in form
    changed = client.post(
        url("monitoring_connection_edit", org, pk=gh.pk),
        {
            "name": "Renamed",
            "schedule": "manual",
            "config-github-account": "other",
            "config-github-regions": "eu-central-1",
        },
    )
    assert changed.status_code == 302
    gh.refresh_from_db()
    assert (gh.name, gh.schedule, gh.next_run_at) == ("Renamed", "manual", None)
    assert gh.config["regions"] == ["eu-central-1"] and gh.credentials.reveal() == GOOD
    entry = ActivityEntry.objects.for_org(org).filter(action="update").latest("id")
    assert "credentials" not in entry.changes and GOOD not in str(entry.changes)


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_contributors_and_auditors_get_nothing(org, admin, gh, make_member, client_for, role):
    run = run_execute(run_id=runs.run_start(principal=admin, connection=gh).run.pk)
    client = client_for(make_member(org, role))
    for name, pk in [
        ("monitoring_connection", gh.pk),
        ("monitoring_run_row", run.pk),
        ("monitoring_run_output", run.pk),
    ]:
        assert client.get(url(name, org, pk=pk)).status_code in (302, 403)  # auditors: portal
    for name, pk in [
        ("monitoring_run_start", gh.pk),
        ("monitoring_connection_test", gh.pk),
        ("monitoring_run_retry", run.pk),
    ]:
        assert client.post(url(name, org, pk=pk)).status_code in (302, 403)
    assert CheckRun.objects.for_org(org).count() == 1


def test_a_manager_runs_but_does_not_change(org, admin, gh, manager, client_for):
    client = client_for(manager)
    page = client.get(url("monitoring_connection", org, pk=gh.pk)).content.decode()
    assert "Run now" in page and "Test connection" in page
    assert url("monitoring_connection_edit", org, pk=gh.pk) not in page
    assert client.get(url("monitoring_connection_edit", org, pk=gh.pk)).status_code == 403


def test_another_organization_s_ids_are_not_found(
    org, admin, gh, other_org, make_member, client_for
):
    run = run_execute(run_id=runs.run_start(principal=admin, connection=gh).run.pk)
    other = other_org
    theirs = client_for(make_member(other, Role.ADMIN))
    for name, pk in [
        ("monitoring_connection", gh.pk),
        ("monitoring_connection_edit", gh.pk),
        ("monitoring_run_row", run.pk),
        ("monitoring_run_output", run.pk),
    ]:
        assert theirs.get(url(name, other, pk=pk)).status_code == 404
        assert theirs.get(url(name, org, pk=pk)).status_code == 404
    for name, pk in [
        ("monitoring_run_start", gh.pk),
        ("monitoring_connection_test", gh.pk),
        ("monitoring_run_retry", run.pk),
    ]:
        assert theirs.post(url(name, other, pk=pk)).status_code == 404
    assert CheckRun.objects.for_org(org).count() == 1
    assert not ActivityEntry.objects.for_org(org).filter(action="connection.test").exists()
