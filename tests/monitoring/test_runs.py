"""Runs of a connection's collector, in this process (the real worker is in
``test_runs_worker``): started once per connection, claimed once, failed with a reason that
keeps earlier results and never a secret, redelivered after a lost worker, scheduled."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from django.utils import timezone

from monitoring import runs
from monitoring.models import (
    CheckResult,
    CheckRun,
    Connection,
    ConnectionKind,
    Finding,
    RunSource,
    RunStatus,
    Schedule,
)
from monitoring.run_worker import MAX_ATTEMPTS, run_execute, scrub, secrets_of
from monitoring.services import connection_create, connection_update
from soc2app.errors import NotPermitted, ValidationFailed
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
        config={"account": "acme", "mode": "fail"},
    )


def set_mode(connection: Connection, mode: str) -> None:
    Connection.objects.for_org(connection.organization).filter(pk=connection.pk).update(
        config={**connection.config, "mode": mode}
    )
    connection.refresh_from_db()


def run_now(admin, connection: Connection) -> CheckRun:
    """Start a run and work it here, as a worker would."""
    started = runs.run_start(principal=admin, connection=connection)
    assert started.started
    return run_execute(run_id=started.run.pk)


def test_a_run_records_results_findings_progress_and_its_output(org, admin, gh, control):
    run = run_now(admin, gh)
    assert (run.status, run.source, run.passed, run.failed) == ("succeeded", "manual", 1, 1)
    assert run.attempts == 1 and run.claimed_by and run.finished_at and run.progress == ""
    assert run.output_size == len(run.output.read()) and len(run.output_sha256) == 64
    (finding,) = Finding.objects.for_org(org)
    assert finding.resource_id == "user-1" and finding.opened_by_run == run
    assert ActivityEntry.objects.for_org(org).filter(action="run.start").count() == 1


def test_a_second_start_returns_the_active_run(admin, gh):
    first = runs.run_start(principal=admin, connection=gh)
    second = runs.run_start(principal=admin, connection=gh)
    assert not second.started and second.run.pk == first.run.pk
    assert "already queued" in second.message and "one run at a time" in second.message
    assert CheckRun.objects.for_org(gh.organization).count() == 1


def test_a_second_delivery_of_the_same_task_does_nothing(admin, gh):
    started = runs.run_start(principal=admin, connection=gh)
    run_execute(run_id=started.run.pk)
    again = run_execute(run_id=started.run.pk)  # the message delivered again
    assert again.status == RunStatus.SUCCEEDED and again.attempts == 1
    assert CheckResult.objects.for_org(gh.organization).count() == 2
    assert run_execute(run_id=10**9) is None


def test_collector_error_fails_the_run_with_its_message_and_keeps_earlier_results(
    org, admin, gh, control
):
    run_now(admin, gh)
    set_mode(gh, "error")
    failed = run_now(admin, gh)
    assert failed.status == RunStatus.FAILED
    assert failed.failure_reason == (
        "The fake API said 401: the token has expired. Earlier results stay in force."
    )
    assert Finding.objects.for_org(org).filter(state="open").count() == 1
    assert CheckResult.objects.for_org(org).count() == 2
    entry = ActivityEntry.objects.for_org(org).get(action="run.failed")
    assert "401" in entry.changes["failure_reason"][1]


@pytest.mark.parametrize("mode", ["leak", "crash"])
def test_a_secret_in_a_collector_message_is_hidden(org, admin, gh, mode, caplog):
    set_mode(gh, mode)
    failed = run_now(admin, gh)
    assert failed.status == RunStatus.FAILED and "[hidden]" in failed.failure_reason
    assert GOOD not in failed.failure_reason
    assert GOOD not in caplog.text and "[hidden]" in caplog.text
    entries = ActivityEntry.objects.for_org(org).values_list("changes", flat=True)
    assert all(GOOD not in str(changes) for changes in entries)


def test_a_hanging_collector_fails_at_the_time_limit(org, admin, gh, control, settings):
    run_now(admin, gh)
    settings.MONITORING_RUN_TIME_LIMIT = 1
    set_mode(gh, "hang")
    failed = run_now(admin, gh)
    assert failed.status == RunStatus.FAILED
    assert failed.failure_reason.startswith("The collector took longer than the 1 s allowed")
    assert Finding.objects.for_org(org).filter(state="open").count() == 1


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("garbage", "The collector returned something that is not a run's output."),
        ("unknown", "The collector's output could not be used: Unknown criteria: CC99.9"),
    ],
)
def test_garbage_output_fails_the_run_and_writes_nothing(org, admin, gh, control, mode, reason):
    run_now(admin, gh)
    set_mode(gh, mode)
    failed = run_now(admin, gh)
    assert failed.status == RunStatus.FAILED and failed.failure_reason.startswith(reason)
    assert failed.output_size == 0
    assert CheckResult.objects.for_org(org).count() == 2


def test_a_run_may_hold_more_results_than_a_push(org, admin, gh, control):
    set_mode(gh, "many")
    run = run_now(admin, gh)
    assert run.status == RunStatus.SUCCEEDED and run.passed == 1500


def test_the_collector_reads_the_database_on_the_run_s_connection(org, admin, gh, control):
    run_now(admin, gh)  # one finding opens
    set_mode(gh, "pass")
    run = run_now(admin, gh)
    assert json.loads(run.output.read())["open_findings"] == 1


def test_retry_starts_a_new_run_and_keeps_the_failed_one(org, admin, gh):
    set_mode(gh, "error")
    failed = run_now(admin, gh)
    set_mode(gh, "pass")
    retried = runs.run_retry(principal=admin, run=failed)
    assert retried.started and retried.run.pk != failed.pk
    assert run_execute(run_id=retried.run.pk).status == RunStatus.SUCCEEDED
    failed.refresh_from_db()
    assert failed.status == RunStatus.FAILED
    entry = ActivityEntry.objects.for_org(org).get(action="run.retry")
    assert entry.changes == {"retry_of": [None, failed.pk]}


def test_custom_and_paused_connections_are_not_run(admin, gh, connection):
    with pytest.raises(ValidationFailed, match="pushed through the API"):
        runs.run_start(principal=admin, connection=connection)
    connection_update(membership=admin, connection=gh, enabled=False)
    with pytest.raises(ValidationFailed, match="paused"):
        runs.run_start(principal=admin, connection=gh)


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_contributors_and_auditors_cannot_start_or_test(org, gh, make_member, role):
    member = make_member(org, role)
    with pytest.raises(NotPermitted):
        runs.run_start(principal=member, connection=gh)
    with pytest.raises(NotPermitted):
        runs.connection_test(principal=member, connection=gh)


def test_a_compliance_manager_may_start_and_test(gh, manager):
    assert runs.run_start(principal=manager, connection=gh).started
    assert runs.connection_test(principal=manager, connection=gh).ok


def _dead_tag() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    process.wait()
    return f"{os.uname().nodename}:{process.pid}"


def test_a_run_whose_worker_died_is_taken_over_or_failed(org, admin, gh, settings):
    rows = CheckRun.objects.for_org(org)
    run = runs.run_start(principal=admin, connection=gh).run
    rows.filter(pk=run.pk).update(status=RunStatus.RUNNING, attempts=1, claimed_by=_dead_tag())
    taken = run_execute(run_id=run.pk)  # the redelivered message, at once
    assert taken.status == RunStatus.SUCCEEDED and taken.attempts == 2

    # Another machine's worker, silent past the stale period: the sweep sends it again.
    other = runs.run_start(principal=admin, connection=gh).run
    long_ago = timezone.now() - dt.timedelta(seconds=settings.MONITORING_RUN_STALE_AFTER + 5)
    rows.filter(pk=other.pk).update(
        status=RunStatus.RUNNING, attempts=1, claimed_by="elsewhere:1", started_at=long_ago
    )
    assert runs.runs_redispatch() == [other.pk]
    assert run_execute(run_id=other.pk).status == RunStatus.SUCCEEDED

    doomed = runs.run_start(principal=admin, connection=gh).run
    rows.filter(pk=doomed.pk).update(
        status=RunStatus.RUNNING,
        attempts=MAX_ATTEMPTS,
        claimed_by="elsewhere:1",
        started_at=long_ago,
    )
    assert runs.runs_redispatch() == []
    doomed.refresh_from_db()
    assert doomed.status == RunStatus.FAILED
    assert doomed.failure_reason.startswith(f"The worker stopped {MAX_ATTEMPTS} times")


def test_a_live_workers_run_is_left_alone(org, admin, gh):
    run = runs.run_start(principal=admin, connection=gh).run
    mine = f"{os.uname().nodename}:{os.getpid()}"
    CheckRun.objects.for_org(org).filter(pk=run.pk).update(
        status=RunStatus.RUNNING, attempts=1, claimed_by=mine
    )
    assert run_execute(run_id=run.pk).attempts == 1
    assert runs.runs_redispatch() == []


def test_the_schedule_starts_due_connections_only(org, other_org, admin, gh, make_member):
    weekly = connection_create(
        membership=admin,
        kind=ConnectionKind.GITHUB,
        name="Weekly",
        schedule=Schedule.WEEKLY,
        config={"account": "b"},
    )
    manual = connection_create(
        membership=admin,
        kind=ConnectionKind.GITHUB,
        name="By hand",
        schedule=Schedule.MANUAL,
        config={"account": "c"},
    )
    paused = connection_create(
        membership=admin, kind=ConnectionKind.GITHUB, name="Paused", config={"account": "d"}
    )
    connection_update(membership=admin, connection=paused, enabled=False)
    later = connection_create(
        membership=admin, kind=ConnectionKind.GITHUB, name="Later", config={"account": "e"}
    )
    theirs = connection_create(
        membership=make_member(other_org, Role.ADMIN),
        kind=ConnectionKind.GITHUB,
        name="Theirs",
        config={"account": "f"},
    )
    now = timezone.now()
    Connection.objects.for_org(org).filter(pk=later.pk).update(
        next_run_at=now + dt.timedelta(hours=1)
    )
    assert manual.next_run_at is None and gh.next_run_at <= now

    queued = runs.runs_start_due(now=now)

    started = CheckRun.objects.dangerously_unscoped(reason="test").filter(pk__in=queued)
    assert {r.connection_id for r in started} == {gh.pk, weekly.pk, theirs.pk}
    assert all(r.source == RunSource.SCHEDULED and r.status == "queued" for r in started)
    gh.refresh_from_db(), weekly.refresh_from_db()
    assert gh.next_run_at == now + dt.timedelta(days=1)
    assert weekly.next_run_at == now + dt.timedelta(days=7)
    # Due again while the run is still queued: one at a time, the time moves on.
    Connection.objects.for_org(org).filter(pk=gh.pk).update(next_run_at=now)
    assert runs.runs_start_due(now=now + dt.timedelta(minutes=5)) == []
    assert CheckRun.objects.for_org(org).filter(connection=gh).count() == 1


def test_a_start_by_hand_moves_the_next_scheduled_run(admin, gh):
    run = runs.run_start(principal=admin, connection=gh).run
    gh.refresh_from_db()
    assert gh.next_run_at == run.created_at + dt.timedelta(days=1)


def test_test_connection_says_what_the_probe_says_and_hides_secrets(
    org, admin, gh, connection, settings
):
    probe = runs.connection_test(principal=admin, connection=gh)
    assert probe.ok and probe.message == "Signed in to acme: eu-west-1."
    connection_update(membership=admin, connection=gh, credentials="wrong-token-987654")
    probe = runs.connection_test(principal=admin, connection=gh)
    assert not probe.ok and probe.message == "The token [hidden] was refused."
    set_mode(gh, "crash")
    assert runs.connection_test(principal=admin, connection=gh).message == (
        "The test failed unexpectedly (RuntimeError)."
    )
    settings.MONITORING_PROBE_TIMEOUT = 1
    set_mode(gh, "hang")
    assert runs.connection_test(principal=admin, connection=gh).message == "No answer within 1 s."
    custom = runs.connection_test(principal=admin, connection=connection)
    assert custom.ok and "pushed through the API" in custom.message
    assert "Nothing has been pushed yet." in custom.message
    logged = ActivityEntry.objects.for_org(org).filter(action="connection.test")
    assert logged.count() == 5
    assert all("987654" not in str(e.changes) for e in logged)


def test_a_run_queued_before_its_connection_was_paused_fails_with_a_reason(admin, gh):
    run = runs.run_start(principal=admin, connection=gh).run
    connection_update(membership=admin, connection=gh, enabled=False)
    failed = run_execute(run_id=run.pk)
    assert failed.status == RunStatus.FAILED
    assert failed.failure_reason.startswith("The connection was paused before the run started.")


def test_every_piece_of_json_credentials_is_hidden(admin, gh):
    key = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretline\n-----END RSA PRIVATE KEY-----"
    )
    connection_update(
        membership=admin,
        connection=gh,
        credentials=json.dumps({"app_id": 1, "installation_id": 2, "private_key": key}),
    )
    secrets = secrets_of(gh)
    assert scrub("bad line MIIEowIBAAKCAQEAsecretline here", secrets) == "bad line [hidden] here"
    assert scrub(f"got {key}", secrets) == "got [hidden]"


def test_beat_starts_due_runs_and_sweeps_every_five_minutes(settings):
    from monitoring import tasks
    from soc2app.celery import app

    app.loader.import_default_modules()  # as a worker does (CELERY_IMPORTS, autodiscovery)
    assert tasks.start_due_runs.name == "monitoring.tasks.start_due_runs"
    beat = settings.CELERY_BEAT_SCHEDULE
    for entry in ("start-due-monitoring-runs", "redispatch-monitoring-runs"):
        assert beat[entry]["task"] in app.tasks
        assert len(beat[entry]["schedule"].minute) == 12
