"""What changed since last week: daily readiness snapshots and the comparison with one.

A snapshot keeps an audit's score, its met / partial / gap counts and each criterion's status
(by reference) for one day; taking it again the same day overwrites it, so the daily job is
idempotent. ``readiness_changes`` compares the readiness computed now with the newest
snapshot at least ``days`` old.

Snapshots are derived data written by the system, not changes anyone made, so they are not
written to the activity log (that would add one entry per audit per day and bury the changes
people made).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from controls.models import Audit, AuditStatus, ReadinessSnapshot
from controls.readiness import AuditReadiness, Status, audit_readiness
from tenants.context import org_scope
from tenants.models import Organization

logger = logging.getLogger(__name__)


_LABELS = {
    Status.MET: "Met",
    Status.PARTIAL: "Partial",
    Status.GAP: "Gap",
    Status.NOT_APPLICABLE: "Not applicable",
}


def _status_label(status: str | None) -> str:
    return _LABELS.get(status, status) if status else "not in scope"


@dataclass(frozen=True)
class CriterionChange:
    ref: str
    title: str
    old: str | None  # None: the criterion was not in scope then
    new: str | None  # None: it is no longer in scope

    @property
    def label(self) -> str:
        """ "Partial → Met", "not in scope → Gap"."""
        return f"{_status_label(self.old)} → {_status_label(self.new)}"


@dataclass
class ReadinessChanges:
    since: dt.date
    score_before: Decimal
    score_now: Decimal
    counts_before: dict[str, int]
    counts_now: dict[str, int]
    criteria: list[CriterionChange] = field(default_factory=list)

    @property
    def score_delta(self) -> Decimal:
        return self.score_now - self.score_before

    @property
    def count_deltas(self) -> dict[str, int]:
        return {k: self.counts_now.get(k, 0) - v for k, v in self.counts_before.items()}


def _statuses(readiness: AuditReadiness) -> dict[str, str]:
    return {r.criterion.ref: str(r.status) for r in readiness.criteria}


def readiness_snapshot_take(
    *, audit: Audit, readiness: AuditReadiness | None = None, today: dt.date | None = None
) -> ReadinessSnapshot:
    """Record ``audit``'s readiness for ``today`` (default: the local date); one per day."""
    today = today or timezone.localdate()
    readiness = readiness or audit_readiness(audit, today=today)
    snapshot, _ = ReadinessSnapshot.objects.for_org(audit.organization_id).update_or_create(
        organization_id=audit.organization_id,
        audit=audit,
        taken_on=today,
        defaults={
            "score": readiness.score,
            "met": readiness.counts["met"],
            "partial": readiness.counts["partial"],
            "gap": readiness.counts["gap"],
            "statuses": _statuses(readiness),
        },
    )
    return snapshot


def readiness_changes(
    *, audit: Audit, readiness: AuditReadiness, days: int = 7, today: dt.date | None = None
) -> ReadinessChanges | None:
    """What changed between the newest snapshot at least ``days`` old and ``readiness``;
    None when there is no snapshot that old. One query."""
    today = today or timezone.localdate()
    before = (
        ReadinessSnapshot.objects.for_org(audit.organization_id)
        .filter(audit=audit, taken_on__lte=today - dt.timedelta(days=days))
        .order_by("-taken_on")
        .first()
    )
    if before is None:
        return None
    old = before.statuses or {}
    changed = [
        CriterionChange(r.criterion.ref, r.criterion.title, old.get(r.criterion.ref), r.status)
        for r in readiness.criteria
        if old.get(r.criterion.ref) != r.status
    ]
    now = {r.criterion.ref for r in readiness.criteria}
    changed += [
        CriterionChange(ref, "", status, None)
        for ref, status in sorted(old.items())
        if ref not in now
    ]
    return ReadinessChanges(
        since=before.taken_on,
        score_before=before.score,
        score_now=readiness.score,
        counts_before={"met": before.met, "partial": before.partial, "gap": before.gap},
        counts_now={k: readiness.counts[k] for k in ("met", "partial", "gap")},
        criteria=changed,
    )


@dataclass
class SnapshotRun:
    taken: int = 0
    failed: list[int] = field(default_factory=list)  # audit ids


def readiness_snapshots_take_all(*, today: dt.date | None = None) -> SnapshotRun:
    """Take today's snapshot of every audit that is not completed, organization by
    organization (each under its own scope). An audit that fails is logged and skipped so
    it cannot hold the others back; the caller decides whether to retry."""
    today = today or timezone.localdate()
    run = SnapshotRun()
    # Organizations are global rows; everything below is read through ``for_org``.
    for org in Organization.objects.order_by("pk").iterator():
        with org_scope(org):
            audits = list(
                Audit.objects.for_org(org).exclude(status=AuditStatus.COMPLETED).order_by("pk")
            )
            for audit in audits:
                try:
                    with transaction.atomic():
                        readiness_snapshot_take(audit=audit, today=today)
                except SoftTimeLimitExceeded:
                    raise
                except Exception:
                    logger.exception("readiness snapshot of audit %s failed", audit.pk)
                    run.failed.append(audit.pk)
                else:
                    run.taken += 1
    return run
