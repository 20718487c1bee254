"""A run's work, in the worker (``monitoring.tasks.execute_run``): claim it, run the collector
under the time limit, hand its output to ``results_ingest``, or fail it with a reason.

The discipline is the reports' (``reports.services``):

* **claimed once**: a conditional UPDATE (queued → running, ``attempts + 1``, ``claimed_by``
  this process, ``started_at`` now: the claim's token) whose row count says whether the run is
  this task's; a second delivery of the same message finds it taken and does nothing. A run
  whose worker died is taken again: at once when its process is known to be gone (same
  machine), else once it has been running past ``MONITORING_RUN_STALE_AFTER``; after
  ``MAX_ATTEMPTS`` lost workers it fails instead;
* **time limit**: past ``MONITORING_RUN_TIME_LIMIT`` seconds the collector is interrupted
  (``monitoring.deadline``: whatever the Celery pool, the embedded default's solo pool
  enforces no Celery time limit) and the run fails with a reason; collectors bound their own
  subprocesses and network calls too;
* **earlier results stay in force**: nothing is written before the collector has finished
  and its output is clean; ingestion is one transaction, so a refusal there writes nothing;
* **no secrets**: failure reasons, logs and the activity log get the collector's message with
  the connection's credentials (and every piece of them) replaced by ``[hidden]``.

Every write after the claim is conditioned on the token: a worker that lost its claim (taken
over after a stale period) writes nothing more.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import time
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db import connections as db_connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from monitoring.collectors import Collected, CollectorError, RawOutput, collector_for
from monitoring.deadline import TimedOut, here_with_deadline
from monitoring.models import CheckRun, Connection, RunStatus
from monitoring.services import results_ingest
from monitoring.specs import clean_check, clean_results
from reports.rendering.scratch import process_gone, process_tag
from soc2app.errors import DomainError
from tenants.activity import Actor, activity_record
from tenants.context import org_scope

logger = logging.getLogger(__name__)

# A run whose worker died this many times fails with a reason (a person may press Retry).
MAX_ATTEMPTS = 3
# Seconds between two writes of a run's progress (the page polls; the database is spared).
PROGRESS_EVERY = 2.0
CONNECTION_LOST = (OperationalError, InterfaceError)
WORKER_LOST = (
    "The worker stopped {n} times while running this connection. Press Retry, or ask your "
    "administrator to check the worker."
)
HIDDEN = "[hidden]"


class ClaimKept(Exception):
    """The database connection was lost while this task held the claim: the task retries with
    the claim's token (``started_at``) and runs the collector again (see ``reports``)."""

    def __init__(self, claimed_at: dt.datetime):
        super().__init__(claimed_at)
        self.claimed_at = claimed_at


# ---- secrets -------------------------------------------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def secrets_of(connection: Connection) -> list[str]:
    """The credentials and every piece of them that could appear in a message (a JSON's
    values, a pasted text's words, a key's lines), longest first."""
    raw = connection.credentials.reveal() if connection.credentials else ""
    try:
        values = _strings(json.loads(raw))
    except ValueError:
        values = [raw]
    pieces = {raw.strip(), *(v.strip() for v in values)}
    words = {w for v in values for w in re.split(r"[\s,;=\"']+|\\n", v)}
    found = {p for p in pieces if len(p) >= 6} | {w for w in words if len(w) >= 8}
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    return text


# ---- the collector's output ----------------------------------------------------------


def _clean(collected: Any) -> Collected:
    """The collector's output, checked as a push is (but with no limit on results: a cloud
    account has thousands of resources); checks that found no resource are left out."""
    if not isinstance(collected, Collected) or not isinstance(collected.output, RawOutput):
        raise CollectorError("The collector returned something that is not a run's output.")
    batch = [
        (clean_check(spec), clean_results(results, limit=None))
        for spec, results in collected.batch
        if results
    ]
    return Collected(batch=batch, output=collected.output)


# ---- the task's work -----------------------------------------------------------------------


def _rows(org_id: int) -> QuerySet[CheckRun]:
    return CheckRun.objects.for_org(org_id)


def _stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.MONITORING_RUN_STALE_AFTER)


def org_of(run_id: int) -> int | None:
    """A run's organization (a system lookup, workers only: tasks only know the id)."""
    return (
        CheckRun.objects.dangerously_unscoped(reason="monitoring run by id")
        .filter(pk=run_id)
        .values_list("organization_id", flat=True)
        .first()
    )


def run_fail(run_id: int, org_id: int, condition: Q, reason: str, actor: str) -> bool:
    """Fail the run if ``condition`` still holds, with its reason in the activity log."""
    with transaction.atomic():
        changed = (
            _rows(org_id)
            .filter(condition, pk=run_id)
            .update(
                status=RunStatus.FAILED,
                failure_reason=reason,
                finished_at=timezone.now(),
                progress="",
            )
        )
        if changed:
            run = _rows(org_id).select_related("organization", "connection").get(pk=run_id)
            activity_record(
                organization=run.organization,
                actor=Actor.system(actor),
                action="run.failed",
                target=run,
                object_repr=run.connection.name,
                changes={"failure_reason": [None, reason]},
            )
    return bool(changed)


def _claim(run_id: int, org_id: int, resume: dt.datetime | None) -> dt.datetime | None:
    """Mark the run running for this task; its token, or None when it is not this task's."""
    claimable = Q(status=RunStatus.QUEUED) | Q(
        status=RunStatus.RUNNING, started_at__lt=_stale_before(), attempts__lt=MAX_ATTEMPTS
    )
    if resume is not None:
        claimable |= Q(status=RunStatus.RUNNING, started_at=resume)
    running = (
        _rows(org_id)
        .filter(pk=run_id, status=RunStatus.RUNNING)
        .values_list("claimed_by", "started_at", "attempts")
        .first()
    )
    if running and running[0] and process_gone(running[0]):
        # Its worker process died (Celery hands the message back at once): take over now,
        # or fail it if it keeps killing workers.
        lost = Q(status=RunStatus.RUNNING, claimed_by=running[0], started_at=running[1])
        if running[2] >= MAX_ATTEMPTS:
            run_fail(run_id, org_id, lost, WORKER_LOST.format(n=running[2]), "monitoring sweep")
            return None
        claimable |= lost
    started_at = timezone.now()
    claimed = (
        _rows(org_id)
        .filter(claimable, pk=run_id)
        .update(
            status=RunStatus.RUNNING,
            progress="Starting",
            failure_reason="",
            started_at=started_at,
            finished_at=None,
            attempts=F("attempts") + 1,
            claimed_by=process_tag(),
        )
    )
    return started_at if claimed else None


def _failure_reason(exc: BaseException, secrets: list[str]) -> str:
    limit = settings.MONITORING_RUN_TIME_LIMIT
    if isinstance(exc, TimedOut):
        reason = (
            f"The collector took longer than the {limit} s allowed "
            "(MONITORING_RUN_TIME_LIMIT) and was stopped."
        )
    elif isinstance(exc, CollectorError):
        reason = str(exc) or "The collector failed without saying why."
    elif isinstance(exc, DomainError):
        reason = f"The collector's output could not be used: {exc.message}"
    else:
        reason = f"The collector failed unexpectedly ({type(exc).__name__}: {exc})."
    return scrub(reason, secrets)[:1000] + " Earlier results stay in force."


def run_execute(*, run_id: int, resume: dt.datetime | None = None) -> CheckRun | None:
    """Run a queued run (see the module); returns the row, or None when it does not exist.
    A run another worker holds is left alone. Raises ``ClaimKept`` when the database
    connection is lost after the claim (the task retries with ``resume``)."""
    org_id = org_of(run_id)
    if org_id is None:
        return None
    claimed_at = _claim(run_id, org_id, resume)
    if claimed_at is None:
        return _rows(org_id).filter(pk=run_id).first()
    try:
        _work(run_id, org_id, claimed_at)
    except CONNECTION_LOST as exc:
        logger.warning("run %s: database connection lost (%s); retrying", run_id, type(exc))
        with contextlib.suppress(Exception):
            db_connections["default"].close()
        raise ClaimKept(claimed_at) from None
    return _rows(org_id).filter(pk=run_id).first()


def _work(run_id: int, org_id: int, claimed_at: dt.datetime) -> None:
    rows = _rows(org_id)
    run = rows.select_related("organization", "connection").get(pk=run_id)
    org, connection = run.organization, run.connection
    mine = Q(status=RunStatus.RUNNING, started_at=claimed_at)
    secrets = secrets_of(connection)
    said = {"text": "", "at": 0.0}

    def progress(text: str) -> None:
        # Throttled: the page polls every few seconds, the database is spared the rest.
        text = scrub(str(text), secrets)[:200]
        now = time.monotonic()
        if text != said["text"] and now - said["at"] >= PROGRESS_EVERY:
            rows.filter(mine, pk=run_id).update(progress=text)
            said["text"], said["at"] = text, now

    with org_scope(org):
        try:
            if not connection.enabled:
                raise CollectorError("The connection was paused before the run started.")
            collector = collector_for(connection.kind)
            collected = here_with_deadline(
                lambda: _clean(collector.collect(connection, progress)),
                settings.MONITORING_RUN_TIME_LIMIT,
            )
            with transaction.atomic():
                if rows.select_for_update().filter(mine, pk=run_id).first() is None:
                    logger.warning("run %s was taken over by another worker: dropped", run_id)
                    return
                results_ingest(
                    organization=org,
                    connection=connection,
                    batch=collected.batch,
                    source=run.source,
                    actor=Actor.system(f"integration {connection.name}"[:200]),
                    run=run,
                    output=collected.output,
                )
        except CONNECTION_LOST:
            raise
        except (Exception, TimedOut) as exc:
            reason = _failure_reason(exc, secrets)
            # The type and the scrubbed reason only: a traceback could carry a secret.
            logger.warning("run %s failed (%s): %s", run_id, type(exc).__name__, reason)
            run_fail(run_id, org_id, mine, reason, "monitoring run")
