"""Writes of reports: request one, generate it (the Celery task's work), retry a failed or
stuck one, and record a download.

Generation is claimed by a conditional UPDATE (queued or failed → running, or a running row
whose worker died long ago), so a task delivered twice (``acks_late``) renders once.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from controls.models import Audit
from reports.models import AuditorAccess, Report, ReportKind, ReportStatus, report_upload_to
from reports.rendering.errors import RenderFailed
from soc2app.errors import Conflict, NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.context import org_scope
from tenants.models import Membership, Role
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
    """Queue a failed report again, or re-send a queued one whose task never got through."""
    permissions.require(membership, Action.REPORT_GENERATE)
    if report.organization_id != membership.organization_id:
        raise NotFound("No such report.")
    with transaction.atomic():
        changed = (
            Report.objects.for_org(report.organization_id)
            .filter(pk=report.pk, status__in=[ReportStatus.FAILED, ReportStatus.QUEUED])
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
    connection; each one is then handled in its organization. Reports stuck too long
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


def _claim(report_id: int, org_id: int) -> dt.datetime | None:
    """Mark the report running for this task; returns the claim's ``started_at`` (the token the
    task's later writes are conditioned on), or None when it is not this task's to produce."""
    started_at = timezone.now()
    claimable = Q(status__in=[ReportStatus.QUEUED, ReportStatus.FAILED]) | Q(
        status=ReportStatus.RUNNING, started_at__lt=_stale_before(), attempts__lt=MAX_ATTEMPTS
    )
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
        )
    )
    return started_at if claimed else None


def _failure_reason(exc: BaseException) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"It took longer than the {settings.REPORT_TASK_TIME_LIMIT} s allowed."
    if isinstance(exc, RenderFailed):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:1000]


def report_generate(*, report_id: int) -> Report | None:
    """Produce the file of a queued (or failed) report; returns the row, or None when the id
    does not exist. A report another worker is generating is left alone."""
    org_id = _org_of(report_id)
    if org_id is None:
        return None
    rows = _rows(org_id)
    claimed_at = _claim(report_id, org_id)
    if claimed_at is None:
        return rows.filter(pk=report_id).first()
    report = rows.select_related("organization", "audit__framework").get(pk=report_id)
    org = report.organization
    # Still this task's claim: a worker that outlived ``REPORT_STALE_AFTER`` (which its time
    # limit should prevent) and lost the report to another one writes nothing more.
    mine = rows.filter(pk=report_id, status=ReportStatus.RUNNING, started_at=claimed_at)

    def progress(value: int) -> None:
        mine.update(progress=max(5, min(99, value)))

    try:
        with org_scope(org), tempfile.TemporaryDirectory(prefix="report-") as tmp:
            out = Path(tmp) / f"report.{report.extension}"
            from reports.build import build_report  # WeasyPrint loads in workers only

            built = build_report(report.audit, report.kind, out, progress)
            with open(out, "rb") as handle:
                name = report.file.storage.save(report_upload_to(report, out.name), File(handle))
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


# --- Auditor portal access -------------------------------------------------------------------


def auditor_access_grant(
    *, membership: Membership, auditor: Membership, audit: Audit
) -> AuditorAccess:
    """Let an auditor membership of the organization see ``audit`` in the auditor portal
    (granting twice changes nothing and logs nothing)."""
    permissions.require(membership, Action.MEMBER_MANAGE)
    org_id = membership.organization_id
    if audit.organization_id != org_id:
        raise NotFound("No such audit.")
    if auditor.organization_id != org_id:
        raise NotFound("No such member.")
    if auditor.role != Role.AUDITOR:
        raise ValidationFailed(
            "Only members with the auditor role can be given portal access.", field="membership"
        )
    if not auditor.is_active:
        raise ValidationFailed(
            "This auditor's membership has expired; invite them again first.", field="membership"
        )
    with transaction.atomic():
        access, created = AuditorAccess.objects.for_org(org_id).get_or_create(
            organization_id=org_id,
            membership=auditor,
            audit=audit,
            defaults={"granted_by_id": getattr(membership, "user_id", None)},
        )
        if created:
            activity_record(
                organization=membership.organization,
                actor=Actor.for_principal(membership),
                action="auditor_access.grant",
                target=access,
                object_repr=f"{auditor.user.email} → {audit.name}"[:200],
            )
    return access


def auditor_access_revoke(*, membership: Membership, access: AuditorAccess) -> None:
    """End an auditor's access to one audit (the row goes; the activity log keeps it)."""
    permissions.require(membership, Action.MEMBER_MANAGE)
    if access.organization_id != membership.organization_id:
        raise NotFound("No such access.")
    with transaction.atomic():
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="auditor_access.revoke",
            target=access,
            object_repr=f"{access.membership.user.email} → {access.audit.name}"[:200],
        )
        AuditorAccess.objects.for_org(access.organization_id).filter(pk=access.pk).delete()
