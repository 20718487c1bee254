"""Runs worked by a real Celery worker (Redis broker, PostgreSQL under row-level security, its
own process importing the fake collector through ``MONITORING_EXTRA_COLLECTORS``): a run
started on commit succeeds, a hanging collector fails at the time limit with earlier results
kept, and a run whose worker was killed is sent again by the sweep and finished."""

from __future__ import annotations

import pytest

from monitoring import runs
from monitoring.models import CheckRun, Connection, ConnectionKind, Finding, RunStatus
from monitoring.services import connection_create
from soc2app.celery import app as celery_app
from tests.monitoring.collectors_fake import FAKE, GOOD
from tests.workers import celery_worker, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


@pytest.fixture(autouse=True)
def _fake_collector(settings):
    settings.MONITORING_EXTRA_COLLECTORS = [FAKE]


@pytest.fixture
def default_queue():
    """Tasks sent on commit go to the queue set here (the test worker's)."""
    before = celery_app.conf.task_default_queue

    def use(queue: str) -> None:
        celery_app.conf.task_default_queue = queue

    yield use
    celery_app.conf.task_default_queue = before


def _run(pk: int) -> CheckRun:
    return CheckRun.objects.dangerously_unscoped(reason="test").get(pk=pk)


def _finished(pk: int) -> CheckRun | None:
    run = _run(pk)
    return run if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED) else None


def _set_mode(connection: Connection, mode: str) -> None:
    Connection.objects.for_org(connection.organization_id).filter(pk=connection.pk).update(
        config={"account": "acme", "mode": mode}
    )
    connection.refresh_from_db()


@pytest.fixture
def gh(org, admin, catalog, control) -> Connection:
    return connection_create(
        membership=admin,
        kind=ConnectionKind.GITHUB,
        name="Fake GitHub",
        credentials=GOOD,
        config={"account": "acme", "mode": "fail"},
    )


def test_a_worker_runs_it_and_a_hang_fails_at_the_time_limit(
    org, admin, gh, tmp_path, default_queue
):
    env = {"MONITORING_EXTRA_COLLECTORS": FAKE, "MONITORING_RUN_TIME_LIMIT": "3"}
    with celery_worker(tmp_path, "test-runs", **env) as queue:
        default_queue(queue)
        first = runs.run_start(principal=admin, connection=gh).run
        done = wait_for(lambda: _finished(first.pk), 60, "the run")
        assert done.status == RunStatus.SUCCEEDED and (done.passed, done.failed) == (1, 1)
        assert done.attempts == 1 and done.output_size > 0

        _set_mode(gh, "hang")
        hung = runs.run_start(principal=admin, connection=gh).run
        failed = wait_for(lambda: _finished(hung.pk), 60, "the hung run to fail")

    assert failed.status == RunStatus.FAILED
    assert failed.failure_reason.startswith("The collector took longer than the 3 s allowed")
    assert Finding.objects.for_org(org).filter(state="open").count() == 1


def test_a_run_whose_worker_was_killed_is_sent_again_by_the_sweep(
    org, admin, gh, tmp_path, default_queue, settings
):
    _set_mode(gh, "hang")
    env = {"MONITORING_EXTRA_COLLECTORS": FAKE, "MONITORING_RUN_TIME_LIMIT": "120"}
    with celery_worker(tmp_path, "test-runs-kill", log_name="first.log", **env) as queue:
        default_queue(queue)
        run = runs.run_start(principal=admin, connection=gh).run
        wait_for(lambda: _run(run.pk).status == RunStatus.RUNNING, 60, "the run to start")
        queue.kill()  # the machine dies mid-run: nobody will finish or fail it
    assert _run(run.pk).status == RunStatus.RUNNING

    _set_mode(gh, "pass")
    settings.MONITORING_RUN_STALE_AFTER = 0  # its claim is stale at once
    with celery_worker(tmp_path, "test-runs-again", log_name="second.log", **env) as queue:
        default_queue(queue)
        assert runs.runs_redispatch() == [run.pk]
        done = wait_for(lambda: _finished(run.pk), 60, "the run, taken over")

    assert done.status == RunStatus.SUCCEEDED and done.attempts == 2
    assert Finding.objects.for_org(org).filter(state="open").count() == 0
