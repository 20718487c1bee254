"""What a finished run adds to the evidence of the controls its checks map to.

``run_evidence_record`` is called by ``monitoring.services.results_ingest`` at the end of every
run, inside its transaction, whatever the run's source (a push, a scheduled or manual run). For
each control the run's checks map to it writes one *system-generated* evidence version
(``evidence.system``) on the item "Automated tests: <connection>" of that control, effective
on the run's day: the summary of the control's checks in this run (per check: passed, failed
and error resources, the first failed resources), the run's id and the SHA-256 and size of its
stored raw output. It is accepted automatically when that output is stored, with the
integration recorded as reviewer; a version whose checks failed says so in ``failure``, which
makes its period a Type 2 exception and names the tests in readiness reasons.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Min
from django.utils import timezone

from evidence.system import SystemRecord, SystemSource, system_evidence_record
from monitoring.models import Finding, FindingState, ResultStatus, Schedule
from tenants.activity import Actor

if TYPE_CHECKING:
    import datetime as dt

    from controls.models import Control
    from monitoring.models import Check, CheckResult, CheckRun, Connection

# Days a run's evidence stays current after its day, by the connection's schedule: one
# missed run is tolerated, two are not (then it is "expiring", later stale).
CURRENT_DAYS = {Schedule.DAILY: 2, Schedule.WEEKLY: 8, Schedule.MANUAL: 2}
FAILED_RESOURCES_KEPT = 5  # per check in a version's summary (the run's results hold all)


def source_for(connection: Connection) -> SystemSource:
    return SystemSource(
        key=f"monitoring:{connection.pk}",
        item_title=f"Automated tests: {connection.name}",
        reviewer_label=f"Integration: {connection.name}",
        current_days=CURRENT_DAYS.get(connection.schedule, 2),
    )


def run_evidence_record(
    *,
    run: CheckRun,
    checks: dict[str, Check],
    controls: dict[str, list[Control]],
    rows: Sequence[CheckResult],
) -> None:
    """One system-generated version per control the run's checks map to (a constant number of
    queries: one for the failing checks' open findings, and ``system_evidence_record``'s)."""
    connection = run.connection
    counts: Counter[tuple[int, str]] = Counter((r.check_ref_id, r.status) for r in rows)
    failed_resources: dict[int, list[str]] = defaultdict(list)
    for r in rows:
        if r.status == ResultStatus.FAIL and len(failed_resources[r.check_ref_id]) < (
            FAILED_RESOURCES_KEPT
        ):
            failed_resources[r.check_ref_id].append(r.resource_id[:200])
    since = _failing_since(run, [c.pk for c in checks.values() if c.pk in failed_resources])
    day = timezone.localdate(run.started_at)
    per_check = {
        key: {
            "id": check.pk,
            "key": check.key,
            "title": check.title,
            "severity": check.severity,
            "passed": counts[(check.pk, ResultStatus.PASS)],
            "failed": counts[(check.pk, ResultStatus.FAIL)],
            "errors": counts[(check.pk, ResultStatus.ERROR)],
            "failed_resources": failed_resources.get(check.pk, []),
        }
        for key, check in checks.items()
    }
    by_control: dict[int, tuple[Control, list[str]]] = {}
    for key, chosen in controls.items():
        for control in chosen:
            by_control.setdefault(control.pk, (control, []))[1].append(key)
    records = []
    for control, keys in by_control.values():
        summaries = [per_check[k] for k in keys]
        records.append(
            SystemRecord(
                control=control,
                data=_summary(run, connection, control, summaries),
                failure=_failure(summaries, since, day),
            )
        )
    system_evidence_record(
        organization=run.organization,
        source=source_for(connection),
        records=records,
        day=day,
        actor=Actor.system(f"Integration: {connection.name}"),
        raw_sha256=run.output_sha256,
        raw_size=run.output_size,
        raw_storage_name=run.output.name if run.output else "",
        object_repr=f"{connection.name}: run {run.pk}, {len(records)} controls",
    )


def _failing_since(run: CheckRun, check_ids: list[int]) -> dict[int, dt.datetime]:
    """When each failing check's oldest open finding opened (one query, none if none failed)."""
    if not check_ids:
        return {}
    return dict(
        Finding.objects.for_org(run.organization_id)
        .filter(check_ref_id__in=check_ids, state=FindingState.OPEN)
        .order_by()
        .values_list("check_ref_id")
        .annotate(since=Min("opened_at"))
    )


def _summary(
    run: CheckRun, connection: Connection, control: Control, checks: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "source": "monitoring",
        "control": control.code,
        "connection": {"id": connection.pk, "name": connection.name, "kind": connection.kind},
        "run": {
            "id": run.pk,
            "source": run.source,
            "started_at": run.started_at.isoformat(),
        },
        "output": {
            "name": run.output_name,
            "sha256": run.output_sha256,
            "size": run.output_size,
        },
        "passed": sum(c["passed"] for c in checks),
        "failed": sum(c["failed"] for c in checks),
        "errors": sum(c["errors"] for c in checks),
        "checks": checks,
    }


def _failure(checks: list[dict[str, Any]], since: dict[int, dt.datetime], day: dt.date) -> str:
    """ "Test 'S3 buckets are encrypted' failing on 2 resources since 3 Dec 2026 (arn:…)", one
    sentence per failing check; blank when none failed."""
    parts = []
    for c in checks:
        if not c["failed"]:
            continue
        first = timezone.localdate(since[c["id"]]) if c["id"] in since else day
        n = c["failed"]
        shown = ", ".join(c["failed_resources"][:2]) + (", …" if n > 2 else "")
        parts.append(
            f"Test '{c['title']}' failing on {n} resource{'s' if n != 1 else ''} "
            f"since {first.day} {first:%b %Y} ({shown})"
        )
    text = "; ".join(parts)
    return text if len(text) <= 500 else text[:499] + "…"
