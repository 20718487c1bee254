"""Runs of a connection's collector: starting one (by hand, by Retry, by the schedule),
"Test connection", and the sweep that re-sends runs nobody works on. The worker's side (the
claim, the time limit, the failure reasons) is ``monitoring.run_worker``.

Rules:

* **one at a time per connection**: the database holds it (``run_one_active``: one queued or
  running run per connection); a second start gets the active run back, said plainly;
* only connections with a collector run (custom ones are pushed), and only enabled ones;
* starting is ``Action.RUN_START``: admins and compliance managers (and their keys), who run
  the program; it changes no configuration and shows no secret. Configuration stays
  ``Action.CONNECTION_MANAGE`` (admins);
* the task is sent once the run is committed; a broker that is down leaves the run queued,
  with a word on its page, for the sweep to send again;
* the schedule (Celery beat, every 5 minutes) starts every enabled daily or weekly connection
  whose ``next_run_at`` has come, organization by organization in a few statements, and moves
  ``next_run_at`` one interval on; any start (by hand too) moves it the same way;
* the sweep (every 5 minutes) sends again a run queued for 10 minutes or running past
  ``MONITORING_RUN_STALE_AFTER``; one queued for a day, or whose worker died ``MAX_ATTEMPTS``
  times, fails with a reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, When
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from monitoring.collectors import CollectorError, Probe, collector_for
from monitoring.connections import SCHEDULE_EVERY, next_run_at
from monitoring.deadline import TimedOut, in_thread_with_deadline
from monitoring.models import (
    CheckRun,
    Connection,
    ConnectionKind,
    RunSource,
    RunStatus,
)
from monitoring.run_worker import (
    MAX_ATTEMPTS,
    WORKER_LOST,
    run_fail,
    scrub,
    secrets_of,
)
from soc2app.errors import Conflict, NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership
from tenants.permissions import Action

logger = logging.getLogger(__name__)

ACTIVE = [RunStatus.QUEUED, RunStatus.RUNNING]
BROKER_DOWN = (
    "Waiting: the task queue could not be reached. It is sent again within minutes; if it "
    "stays queued, ask your administrator to check the worker."
)
GIVE_UP_AFTER = dt.timedelta(hours=24)
NEVER_STARTED = (
    "No worker started this run within a day. Press Retry; if it stays queued, ask your "
    "administrator to check the worker."
)


@dataclass(frozen=True)
class RunStart:
    run: CheckRun
    started: bool  # False: the connection already had this run queued or running

    @property
    def message(self) -> str:
        name = self.run.connection.name
        if self.started:
            return f"{name}: run started. Its progress shows below."
        when = timezone.localtime(self.run.created_at).strftime("%d %b %Y %H:%M")
        return (
            f"{name} is already {self.run.get_status_display().lower()} (run #{self.run.pk}, "
            f"since {when}): one run at a time per connection."
        )


def run_enqueue(run_id: int, org_id: int) -> bool:
    """Send the run's task; when the broker is down, say so on the (still queued) run."""
    from monitoring.tasks import execute_run

    try:
        execute_run.delay(run_id)
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning("run %s not enqueued: %s", run_id, type(exc).__name__)
        CheckRun.objects.for_org(org_id).filter(pk=run_id, status=RunStatus.QUEUED).update(
            progress=BROKER_DOWN[:200]
        )
        return False
    return True


def _require_runnable(principal: Membership, connection: Connection) -> None:
    permissions.require(principal, Action.RUN_START)
    if connection.organization_id != principal.organization_id:
        raise NotFound("No such connection.")
    if connection.kind == ConnectionKind.CUSTOM:
        raise ValidationFailed(
            "This connection's results are pushed through the API: it has nothing to run.",
            code="wrong_kind",
        )
    if not connection.enabled:
        raise ValidationFailed("This connection is paused: resume it first.", code="paused")


def _active_run(connection: Connection) -> CheckRun | None:
    return (
        CheckRun.objects.for_org(connection.organization_id)
        .filter(connection=connection, status__in=ACTIVE)
        .select_related("connection")
        .first()
    )


def run_start(
    *, principal: Membership, connection: Connection, retry_of: CheckRun | None = None
) -> RunStart:
    """Queue a run of ``connection`` (by hand, or Retry of ``retry_of``), or find the one
    already queued or running."""
    _require_runnable(principal, connection)
    try:
        collector_for(connection.kind)
    except CollectorError as exc:
        raise ValidationFailed(str(exc), code="no_collector") from None
    actor = Actor.for_principal(principal)
    org = connection.organization_id
    now = timezone.now()
    try:
        with transaction.atomic():
            run = CheckRun.objects.create(
                organization_id=org,
                connection=connection,
                source=RunSource.MANUAL,
                status=RunStatus.QUEUED,
                started_at=now,
                created_at=now,
                started_by_label=actor.label[:200],
            )
            following = next_run_at(connection, after=now)
            Connection.objects.for_org(org).filter(pk=connection.pk).update(next_run_at=following)
            activity_record(
                organization=principal.organization,
                actor=actor,
                action="run.retry" if retry_of else "run.start",
                target=run,
                object_repr=connection.name,
                changes={"retry_of": [None, retry_of.pk]} if retry_of else None,
            )
            transaction.on_commit(lambda: run_enqueue(run.pk, org))
    except IntegrityError:
        active = _active_run(connection)
        if active is None:  # it finished in between: starting again is fine
            raise Conflict("The connection's run just finished: press Run now again.") from None
        return RunStart(active, started=False)
    connection.next_run_at = following
    run.connection = connection
    return RunStart(run, started=True)


def run_retry(*, principal: Membership, run: CheckRun) -> RunStart:
    """Retry a failed run: a new run of its connection (the failed one stays, with its
    reason, in the connection's history)."""
    permissions.require(principal, Action.RUN_START)
    if run.organization_id != principal.organization_id:
        raise NotFound("No such run.")
    if run.status != RunStatus.FAILED:
        raise Conflict("Only a failed run can be retried.")
    connection = Connection.objects.for_org(run.organization_id).get(pk=run.connection_id)
    return run_start(principal=principal, connection=connection, retry_of=run)


def _last_push(connection: Connection) -> str:
    last = (
        CheckRun.objects.for_org(connection.organization_id)
        .filter(connection=connection, source=RunSource.PUSH)
        .order_by("-started_at", "-id")
        .first()
    )
    if last is None:
        return "Nothing has been pushed yet."
    when = timezone.localtime(last.started_at).strftime("%d %b %Y %H:%M")
    return f"Last push: {when}, {last.passed} passed, {last.failed} failed, {last.errors} errors."


def connection_test(*, principal: Membership, connection: Connection) -> Probe:
    """ "Test connection": whether the credentials work and what they can see, in a sentence
    (the collector's ``probe``, given ``MONITORING_PROBE_TIMEOUT`` seconds); logged with its
    outcome, never a secret."""
    permissions.require(principal, Action.RUN_START)
    if connection.organization_id != principal.organization_id:
        raise NotFound("No such connection.")
    secrets = secrets_of(connection)
    if connection.kind == ConnectionKind.CUSTOM:
        probe = Probe(
            ok=True, message=f"Results are pushed through the API. {_last_push(connection)}"
        )
    else:
        timeout = settings.MONITORING_PROBE_TIMEOUT
        try:
            collector = collector_for(connection.kind)
            probe = in_thread_with_deadline(lambda: collector.probe(connection), timeout)
            if not isinstance(probe, Probe):
                probe = Probe(ok=False, message="The collector gave no answer.")
        except TimedOut:
            probe = Probe(ok=False, message=f"No answer within {timeout} s.")
        except CollectorError as exc:
            probe = Probe(ok=False, message=str(exc))
        except Exception as exc:
            probe = Probe(ok=False, message=f"The test failed unexpectedly ({type(exc).__name__}).")
        probe = Probe(ok=bool(probe.ok), message=scrub(str(probe.message), secrets)[:500])
    with transaction.atomic():
        activity_record(
            organization=principal.organization,
            actor=Actor.for_principal(principal),
            action="connection.test",
            target=connection,
            changes={"ok": [None, probe.ok], "message": [None, probe.message]},
        )
    return probe


# ---- the schedule and the sweep (Celery beat; system jobs across organizations) -----------


def runs_start_due(*, now: dt.datetime | None = None) -> list[int]:
    """Start every enabled scheduled connection whose time has come (see the module);
    returns the ids of the runs queued. A connection with a run still active is not started
    again (its time moves on all the same)."""
    now = now or timezone.now()
    due = (
        Connection.objects.dangerously_unscoped(reason="monitoring schedule: due connections")
        .filter(enabled=True, next_run_at__lte=now, schedule__in=list(SCHEDULE_EVERY))
        .exclude(kind=ConnectionKind.CUSTOM)
        .values_list("organization_id", "pk")
    )
    by_org: dict[int, list[int]] = {}
    for org_id, pk in due[:5000]:
        by_org.setdefault(org_id, []).append(pk)
    queued: list[int] = []
    for org_id, pks in by_org.items():
        with transaction.atomic():
            runs = CheckRun.objects.for_org(org_id)
            CheckRun.objects.bulk_create(
                [
                    CheckRun(
                        organization_id=org_id,
                        connection_id=pk,
                        source=RunSource.SCHEDULED,
                        status=RunStatus.QUEUED,
                        started_at=now,
                        created_at=now,
                        started_by_label="Schedule",
                    )
                    for pk in pks
                ],
                ignore_conflicts=True,  # one active run per connection: the rest wait
            )
            Connection.objects.for_org(org_id).filter(pk__in=pks).update(
                next_run_at=Case(
                    *(When(schedule=s, then=now + every) for s, every in SCHEDULE_EVERY.items()),
                    default=None,
                )
            )
            ids = list(
                runs.filter(
                    connection_id__in=pks,
                    status=RunStatus.QUEUED,
                    source=RunSource.SCHEDULED,
                    created_at=now,
                ).values_list("pk", flat=True)
            )
            for pk in ids:
                transaction.on_commit(lambda pk=pk, org_id=org_id: run_enqueue(pk, org_id))
        queued += ids
    if by_org:
        logger.info("schedule queued %d runs", len(queued))
    return queued


def runs_redispatch(*, queued_for: dt.timedelta = dt.timedelta(minutes=10)) -> list[int]:
    """Send again the runs nobody is working on (see the module); returns the ids sent."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.MONITORING_RUN_STALE_AFTER)
    queued = Q(status=RunStatus.QUEUED)
    abandoned = Q(status=RunStatus.RUNNING, started_at__lt=stale)
    stuck = list(
        CheckRun.objects.dangerously_unscoped(reason="monitoring sweep: stuck runs of every org")
        .filter((queued & Q(created_at__lt=now - queued_for)) | abandoned)
        .order_by("created_at")
        .values_list("pk", "organization_id", "status", "created_at", "attempts")[:500]
    )
    sent: list[int] = []
    for pk, org_id, status, created_at, attempts in stuck:
        if status == RunStatus.QUEUED and created_at < now - GIVE_UP_AFTER:
            old = queued & Q(created_at__lt=now - GIVE_UP_AFTER)
            run_fail(pk, org_id, old, NEVER_STARTED, "monitoring sweep")
        elif status == RunStatus.RUNNING and attempts >= MAX_ATTEMPTS:
            lost = abandoned & Q(attempts=attempts)
            run_fail(pk, org_id, lost, WORKER_LOST.format(n=attempts), "monitoring sweep")
        elif run_enqueue(pk, org_id):
            sent.append(pk)
    if stuck:
        logger.info("re-dispatched %d of %d stuck runs", len(sent), len(stuck))
    return sent
