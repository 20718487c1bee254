"""Writes of reports: request one, generate it (the Celery task's work), retry a failed or
stuck one, and record a download.

Generation is claimed by a conditional UPDATE (queued or failed → running, or a running row
whose worker died long ago), so a task delivered twice (``acks_late``) renders once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from controls.models import Audit
from reports.access import auditor_access_grant, auditor_access_revoke  # noqa: F401 (portal grants)
from reports.models import Report, ReportKind, ReportStatus, report_upload_to
from reports.rendering.errors import RenderFailed
from reports.rendering.scratch import process_gone, process_tag, scratch_folder
from soc2app.errors import Conflict, NotFound, ValidationFailed
from soc2app.metrics import REPORT_SECONDS
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.context import org_scope
from tenants.models import Membership
from tenants.permissions import Action

logger = logging.getLogger(__name__)

BROKER_DOWN = (
    "The task queue could not be reached, so the report has not started. "
    "Press Retry in a minute; if it keeps failing, ask your administrator to check the worker."
)


def _org_of(report_id: int) -> int | None:
    """The organization of a report: tasks only know its id (a system lookup, workers only);
    what they then read and write is in that organization, on the application's connection."""
    return (
        Report.objects.dangerously_unscoped(reason="report generation by id")
        .filter(pk=report_id)
        .values_list("organization_id", flat=True)
        .first()
    )


def _rows(org_id: int) -> QuerySet[Report]:
    return Report.objects.for_org(org_id)


def report_enqueue(report_id: int, org_id: int) -> bool:
    """Send the generation task; when the broker is down, say so on the row (still queued)."""
    from reports.tasks import generate_report

    try:
        generate_report.delay(report_id)
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning("report %s not enqueued: %s", report_id, exc)
        _rows(org_id).filter(pk=report_id, status=ReportStatus.QUEUED).update(error=BROKER_DOWN)
        return False
    return True


def report_request(*, membership: Membership, audit: Audit, kind: str) -> Report:
    permissions.require(membership, Action.REPORT_GENERATE)
    if audit.organization_id != membership.organization_id:
        raise NotFound("No such audit.")
    if kind not in ReportKind.values:
        raise ValidationFailed(
            f"Choose a report type: {', '.join(ReportKind.values)}.", field="kind"
        )
    actor = Actor.for_principal(membership)
    with transaction.atomic():
        report = Report.objects.create(
            organization_id=membership.organization_id,
            audit=audit,
            kind=kind,
            requested_by_id=actor.user_id,
            requested_by_label=actor.label[:200],
        )
        activity_record(
            organization=membership.organization,
            actor=actor,
            action="report.request",
            target=report,
            object_repr=f"{report.get_kind_display()}: {audit.name}",
        )
        transaction.on_commit(lambda: report_enqueue(report.pk, report.organization_id))
    return report


def report_retry(*, membership: Membership, report: Report) -> Report:
    """Queue a failed report again, re-send a queued one whose task never got through, or take
    back one still "running" past ``REPORT_STALE_AFTER`` (its worker is gone: a worker still at
    it finds its claim taken and keeps nothing)."""
    permissions.require(membership, Action.REPORT_GENERATE)
    if report.organization_id != membership.organization_id:
        raise NotFound("No such report.")
    retryable = Q(status__in=[ReportStatus.FAILED, ReportStatus.QUEUED]) | Q(
        status=ReportStatus.RUNNING, started_at__lt=_stale_before()
    )
    with transaction.atomic():
        changed = (
            Report.objects.for_org(report.organization_id)
            .filter(retryable, pk=report.pk)
            .update(status=ReportStatus.QUEUED, progress=0, error="", finished_at=None)
        )
        if not changed:
            raise Conflict("This report is being generated or is ready: there is nothing to retry.")
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="report.retry",
            target=report,
        )
        transaction.on_commit(lambda: report_enqueue(report.pk, report.organization_id))
    report.refresh_from_db()
    return report


# A report whose worker died this many times (out of memory on a huge PDF, say) is not sent
# again: it fails with a reason, and a person may press Retry.
MAX_ATTEMPTS = 3
# A report still queued this long (no worker took it in a day) fails instead of being sent
# again every few minutes: the page then says so, with a Retry button.
GIVE_UP_AFTER = dt.timedelta(hours=24)
NEVER_STARTED = (
    "No worker started this report within a day. Press Retry; if it stays queued, ask your "
    "administrator to check the worker."
)
WORKER_LOST = (
    "The worker stopped {n} times while producing this report (it may need more memory than "
    "the worker has). Press Retry, or ask your administrator to check the worker."
)


def _stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.REPORT_STALE_AFTER)


def _give_up(report_id: int, org_id: int, condition: Q, reason: str) -> bool:
    """Fail a stuck report (if it is still stuck), logged in its organization's activity."""
    with transaction.atomic():
        changed = (
            _rows(org_id)
            .filter(condition, pk=report_id)
            .update(status=ReportStatus.FAILED, error=reason, finished_at=timezone.now())
        )
        if changed:
            report = _rows(org_id).select_related("organization").get(pk=report_id)
            activity_record(
                organization=report.organization,
                actor=Actor.system("report sweep"),
                action="report.failed",
                target=report,
                changes={"error": [None, reason]},
            )
    return bool(changed)


def reports_redispatch(*, queued_for: dt.timedelta = dt.timedelta(minutes=10)) -> list[int]:
    """Send again the reports nobody is working on (Celery beat, every few minutes): queued
    for longer than ``queued_for`` (the broker was down when they were requested, or lost the
    message), or "running" past ``REPORT_STALE_AFTER`` (the worker died and the broker did not
    hand the task back). A report still waiting in a busy queue gets a second message; the
    claim makes the extra one a no-op. Returns the ids sent (a broker still down leaves them
    queued with the message, for the next sweep).

    A system job across organizations: finding them is one statement on the system
    connection; each is then handled in its organization. Reports stuck too long
    (``GIVE_UP_AFTER`` queued, ``MAX_ATTEMPTS`` lost workers) fail with a reason instead, so
    neither the queue nor the log fills with a report that will never come."""
    now = timezone.now()
    queued = Q(status=ReportStatus.QUEUED)
    abandoned = Q(status=ReportStatus.RUNNING, started_at__lt=_stale_before())
    stuck = list(
        Report.objects.dangerously_unscoped(reason="report sweep: stuck reports of every org")
        .filter((queued & Q(created_at__lt=now - queued_for)) | abandoned)
        .order_by("created_at")
        .values_list("pk", "organization_id", "status", "created_at", "attempts")[:500]
    )
    sent: list[int] = []
    for pk, org_id, status, created_at, attempts in stuck:
        if status == ReportStatus.QUEUED and created_at < now - GIVE_UP_AFTER:
            _give_up(pk, org_id, queued & Q(created_at__lt=now - GIVE_UP_AFTER), NEVER_STARTED)
        elif status == ReportStatus.RUNNING and attempts >= MAX_ATTEMPTS:
            reason = WORKER_LOST.format(n=attempts)
            _give_up(pk, org_id, abandoned & Q(attempts=attempts), reason)
        elif report_enqueue(pk, org_id):
            sent.append(pk)
    if stuck:
        logger.info("re-dispatched %d of %d stuck reports", len(sent), len(stuck))
    return sent


# A lost database connection (a restart, a fail-over, a terminated backend): psycopg raises
# OperationalError on the query that meets it and InterfaceError on every later use of it.
CONNECTION_LOST = (OperationalError, InterfaceError)


class ClaimKept(Exception):
    """The database connection was lost while this task held the report's claim, so nothing
    could be recorded: the task retries with the claim's token (``started_at``) and produces
    the report again, instead of leaving it "running" until ``REPORT_STALE_AFTER``."""

    def __init__(self, claimed_at: dt.datetime):
        super().__init__(claimed_at)
        self.claimed_at = claimed_at


def _reconnect() -> None:
    # Django keeps a dead connection until the end of the task; dropping it makes the next
    # query open a new one (a database that is back is then used at once).
    with contextlib.suppress(DatabaseError):
        connection.close()


def _claim(report_id: int, org_id: int, resume: dt.datetime | None = None) -> dt.datetime | None:
    """Mark the report running for this task; returns the claim's ``started_at`` (the token the
    task's later writes are conditioned on), or None when it is not this task's to produce.
    ``resume`` is the token of this task's own earlier claim (see ``ClaimKept``)."""
    started_at = timezone.now()
    claimable = Q(status__in=[ReportStatus.QUEUED, ReportStatus.FAILED]) | Q(
        status=ReportStatus.RUNNING, started_at__lt=_stale_before(), attempts__lt=MAX_ATTEMPTS
    )
    if resume is not None:
        claimable |= Q(status=ReportStatus.RUNNING, started_at=resume)
    running = (
        _rows(org_id)
        .filter(pk=report_id, status=ReportStatus.RUNNING)
        .values_list("claimed_by", "started_at", "attempts")
        .first()
    )
    if running and running[0] and process_gone(running[0]):
        # Its worker process died (a child killed for memory: Celery hands the message back at
        # once): take over now, or fail it if it keeps killing workers, rather than leave it
        # "running" until REPORT_STALE_AFTER.
        lost = Q(status=ReportStatus.RUNNING, claimed_by=running[0], started_at=running[1])
        if running[2] >= MAX_ATTEMPTS:
            _give_up(report_id, org_id, lost, WORKER_LOST.format(n=running[2]))
            return None
        claimable |= lost
    claimed = (
        _rows(org_id)
        .filter(claimable, pk=report_id)
        .update(
            status=ReportStatus.RUNNING,
            progress=5,
            error="",
            started_at=started_at,
            finished_at=None,
            attempts=F("attempts") + 1,
            claimed_by=process_tag(),
        )
    )
    return started_at if claimed else None


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"It took longer than the {settings.REPORT_TASK_TIME_LIMIT} s allowed."
    if isinstance(exc, RenderFailed):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:1000]


def report_generate(*, report_id: int, resume: dt.datetime | None = None) -> Report | None:
    """Produce the file of a queued (or failed) report; returns the row, or None when the id
    does not exist. A report another worker is generating is left alone. Raises ``ClaimKept``
    when the database connection is lost after the claim (the task retries with ``resume``)."""
    org_id = _org_of(report_id)
    if org_id is None:
        return None
    claimed_at = _claim(report_id, org_id, resume)
    if claimed_at is None:
        return _rows(org_id).filter(pk=report_id).first()
    started = time.perf_counter()
    try:
        produced = _produce(report_id, org_id, claimed_at)
    except CONNECTION_LOST as exc:
        # Neither the failure nor the result could be written. A file already stored is left
        # to the orphan sweep (the commit may have happened before the connection dropped).
        logger.warning("report %s: database connection lost (%s); retrying", report_id, exc)
        _reconnect()
        raise ClaimKept(claimed_at) from exc
    REPORT_SECONDS.labels(produced.kind, produced.status).observe(time.perf_counter() - started)
    return produced


def _produce(report_id: int, org_id: int, claimed_at: dt.datetime) -> Report:
    rows = _rows(org_id)
    report = rows.select_related("organization", "audit__framework").get(pk=report_id)
    org = report.organization
    # Still this task's claim: a worker that outlived ``REPORT_STALE_AFTER`` (which its time
    # limit should prevent) and lost the report to another one writes nothing more.
    mine = rows.filter(pk=report_id, status=ReportStatus.RUNNING, started_at=claimed_at)

    def progress(value: int) -> None:
        mine.update(progress=max(5, min(99, value)))

    try:
        with org_scope(org), scratch_folder() as tmp:
            out = Path(tmp) / f"report.{report.extension}"
            from reports.build import build_report  # WeasyPrint loads in workers only

            built = build_report(report.audit, report.kind, out, progress)
            with open(out, "rb") as handle:
                name = report.file.storage.save(report_upload_to(report, out.name), File(handle))
    except CONNECTION_LOST:
        raise  # not the render's fault: the task retries (``report_generate``)
    except Exception as exc:
        logger.exception("report %s failed", report_id)
        reason = _failure_reason(exc)
        with transaction.atomic():
            if not mine.update(
                status=ReportStatus.FAILED, error=reason, finished_at=timezone.now()
            ):
                return rows.get(pk=report_id)
            activity_record(
                organization=org,
                actor=Actor.system("report generator"),
                action="report.failed",
                target=report,
                changes={"error": [None, reason]},
            )
        return rows.get(pk=report_id)
    content = built.content
    with transaction.atomic():
        finished = mine.update(
            status=ReportStatus.DONE,
            progress=100,
            file=name,
            sha256=built.sha256,
            size=built.size,
            pages=built.pages,
            catalog_version=content.catalog_version[:200],
            data_as_of=content.data_as_of,
            finished_at=timezone.now(),
        )
        if not finished:
            logger.warning("report %s was taken over by another worker: file dropped", report_id)
            report.file.storage.delete(name)
            return rows.get(pk=report_id)
        activity_record(
            organization=org,
            actor=Actor.system("report generator"),
            action="report.done",
            target=report,
            changes={"sha256": [None, built.sha256]},
        )
        # Subscribers hear of it once the row is committed (sent after commit).
        from tenants.webhooks.services import webhooks_emit

        webhooks_emit(
            organization=org,
            event="report.ready",
            payload={
                "organization": org.slug,
                "report": report.pk,
                "audit": report.audit_id,
                "kind": report.kind,
                "sha256": built.sha256,
            },
        )
    return rows.get(pk=report_id)


def report_download_record(
    *, membership: Membership, report: Report, client_ip: str | None = None
) -> None:
    """Log that a member fetched a report (auditors included: reading is allowed), and from
    which address."""
    if report.organization_id != membership.organization_id:
        raise NotFound("No such report.")
    permissions.require(membership, Action.VIEW)
    with transaction.atomic():
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="download",
            target=report,
            changes={"sha256": [None, report.sha256], "client_ip": [None, client_ip]},
        )
