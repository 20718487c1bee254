"""Write services of continuous monitoring: the ingestion of results (connections:
``monitoring.connections``, re-exported here).

``results_ingest`` is the one writer of runs, results and findings, whatever the source: the
API's push (``results_push``), and later the Prowler and GitHub collectors, hand it parsed
``CheckSpec``/``ResultSpec`` values. Its rules for findings, per check and resource:

* ``fail``: keeps the open finding, or opens one (owner: the first mapped control's owner; due
  by severity, ``monitoring.findings``); opened after an earlier finding closed, it is marked
  a *regression*;
* ``pass``: closes the open finding, if any;
* ``error``: changes no finding (the check could not tell).

A batch runs in one transaction and a constant number of queries, whatever its size (on
PostgreSQL results and new findings are inserted 10,000 rows per statement: ``monitoring.bulk``,
without a model instance per row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from controls.models import Control, ControlCriterion
from criteria.models import Criterion
from monitoring import events
from monitoring.bulk import bulk_insert
from monitoring.collectors import RawOutput

# Re-exported: callers import every monitoring write service from here.
from monitoring.connections import connection_create as connection_create
from monitoring.connections import connection_delete as connection_delete
from monitoring.connections import connection_update as connection_update
from monitoring.findings import due_date
from monitoring.models import (
    Check,
    CheckControl,
    CheckResult,
    CheckRun,
    Connection,
    ConnectionKind,
    Finding,
    FindingState,
    ResultStatus,
    RunSource,
    RunStatus,
)
from monitoring.output import run_output_store
from monitoring.run_evidence import run_evidence_record

# Re-exported: the API and the tests read the push's shape from here.
from monitoring.specs import MAX_DETAILS_BYTES as MAX_DETAILS_BYTES
from monitoring.specs import MAX_MAPPINGS as MAX_MAPPINGS
from monitoring.specs import MAX_RESULTS as MAX_RESULTS
from monitoring.specs import CheckSpec, ResultSpec, clean_check, clean_results
from soc2app.errors import NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action


class ResultRow(NamedTuple):
    """A result as written (``CheckResult``'s columns; handed to ``run_evidence_record``)."""

    check_ref_id: int
    resource_id: str
    resource_name: str
    status: str
    details: dict[str, Any]


RESULT_FIELDS = (
    "organization", "run", "check_ref", "resource_id", "resource_name", "status", "details",
    "created_at",
)  # fmt: skip
FINDING_FIELDS = (
    "organization", "check_ref", "resource_id", "resource_name", "state", "owner", "severity",
    "due_date", "opened_at", "regression", "opened_by_run",
)  # fmt: skip


@dataclass
class IngestSummary:
    run: CheckRun
    opened: int = 0
    closed: int = 0
    regressions: int = 0


def _resolve_controls(org: Organization, specs: Sequence[CheckSpec]) -> dict[str, list[Control]]:
    """Per check key, the controls it tests: the codes given (in their order), then the
    controls mapped to its criteria (by code). Two queries for the whole batch; an unknown
    criterion or control code is refused."""
    refs = {r for s in specs for r in s.criteria}
    codes = {c for s in specs for c in s.controls}
    known_refs = set(Criterion.objects.filter(ref__in=refs).values_list("ref", flat=True))
    if refs - known_refs:
        unknown = ", ".join(sorted(refs - known_refs)[:5])
        raise ValidationFailed(
            f"Unknown criteria: {unknown} (use refs like CC6.1).", field="criteria"
        )
    by_code = {c.code: c for c in Control.objects.for_org(org).filter(code__in=codes)}
    if codes - set(by_code):
        unknown = ", ".join(sorted(codes - set(by_code))[:5])
        raise ValidationFailed(f"No control has the code {unknown}.", field="controls")
    by_ref: dict[str, list[Control]] = {}
    if refs:
        mappings = (
            ControlCriterion.objects.for_org(org)
            .filter(criterion__ref__in=refs)
            .select_related("control", "criterion")
            .order_by("control__code")
        )
        for mapping in mappings:
            by_ref.setdefault(mapping.criterion.ref, []).append(mapping.control)
    resolved = {}
    for spec in specs:
        chosen = {c: by_code[c] for c in spec.controls}
        for ref in spec.criteria:
            for control in by_ref.get(ref, []):
                chosen.setdefault(control.code, control)
        resolved[spec.key] = list(chosen.values())
    return resolved


def _upsert_checks(
    org: Organization, connection: Connection, specs: Sequence[CheckSpec]
) -> dict[str, Check]:
    existing = {
        c.key: c
        for c in Check.objects.for_org(org).filter(
            connection=connection, key__in=[s.key for s in specs]
        )
    }
    new, changed = [], []
    for spec in specs:
        check = existing.get(spec.key)
        if check is None:
            new.append(
                Check(
                    organization=org,
                    connection=connection,
                    key=spec.key,
                    title=spec.title,
                    severity=spec.severity,
                    criteria=list(spec.criteria),
                )
            )
        elif (check.title, check.severity, check.criteria) != (
            spec.title,
            spec.severity,
            list(spec.criteria),
        ):
            check.title, check.severity, check.criteria = (
                spec.title,
                spec.severity,
                list(spec.criteria),
            )
            changed.append(check)
    if new:
        Check.objects.bulk_create(new)
        # SQLite and PostgreSQL both return the new ids; re-read by key to be sure.
        existing.update(
            {
                c.key: c
                for c in Check.objects.for_org(org).filter(
                    connection=connection, key__in=[c.key for c in new]
                )
            }
        )
    if changed:
        Check.objects.for_org(org).bulk_update(changed, ["title", "severity", "criteria"])
    return existing


def results_ingest(
    *,
    organization: Organization,
    connection: Connection,
    batch: Sequence[tuple[CheckSpec, Sequence[ResultSpec]]],
    source: str,
    actor: Actor,
    now: dt.datetime | None = None,
    run: CheckRun | None = None,
    output: RawOutput | None = None,
) -> IngestSummary:
    """Record one run of ``connection``: its checks (created or updated), one result per
    resource, and the findings they open or close. Input must already be clean
    (``clean_check``/``clean_results``); unknown criteria or controls are refused here.

    ``run``: a run already started (by ``monitoring.runs``), finished here; without it a new
    one is recorded (a push). ``output``: the raw output, stored once with the run."""
    org = organization
    now = now or timezone.now()
    specs = [spec for spec, _results in batch]
    with transaction.atomic():
        # One run at a time per connection: a concurrent push of the same check waits here
        # instead of racing to open the same finding (``finding_one_open``) or create the check.
        Connection.objects.for_org(org).select_for_update().filter(pk=connection.pk).exists()
        controls = _resolve_controls(org, specs)
        checks = _upsert_checks(org, connection, specs)
        CheckControl.objects.for_org(org).filter(check_ref__in=checks.values()).delete()
        CheckControl.objects.bulk_create(
            CheckControl(organization=org, check_ref=checks[key], control=control, position=i)
            for key, chosen in controls.items()
            for i, control in enumerate(chosen)
        )
        if run is None:
            run = CheckRun.objects.create(
                organization=org,
                connection=connection,
                source=source,
                started_at=now,
                started_by_label=actor.label[:200],
            )
        if output is not None:
            run_output_store(run, output)
        rows = [
            ResultRow(checks[spec.key].pk, r.resource, r.resource_name, r.status, r.details)
            for spec, results in batch
            for r in results
        ]
        bulk_insert(
            CheckResult,
            org.pk,
            RESULT_FIELDS,
            [(org.pk, run.pk, *row, now) for row in rows],
        )
        summary = IngestSummary(run=run)
        _apply_findings(org, run, checks, controls, rows, now, summary)
        counts = {s: sum(1 for r in rows if r.status == s) for s in ResultStatus.values}
        run.passed, run.failed, run.errors = counts["pass"], counts["fail"], counts["error"]
        run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
        run.progress = ""
        run.save(
            update_fields=[
                "passed",
                "failed",
                "errors",
                "status",
                "finished_at",
                "progress",
                *(("output", "output_name", "output_sha256", "output_size") if output else ()),
            ]
        )
        run_evidence_record(run=run, checks=checks, controls=controls, rows=rows)
        activity_record(
            organization=org,
            actor=actor,
            action="run",
            target=run,
            object_repr=f"{connection.name}: {', '.join(s.key for s in specs)}"[:200],
            changes={
                "passed": [None, run.passed],
                "failed": [None, run.failed],
                "errors": [None, run.errors],
                "findings_opened": [None, summary.opened],
                "findings_closed": [None, summary.closed],
            },
        )
    return summary


def _apply_findings(
    org: Organization,
    run: CheckRun,
    checks: dict[str, Check],
    controls: dict[str, list[Control]],
    rows: Sequence[ResultRow],
    now: dt.datetime,
    summary: IngestSummary,
) -> None:
    """Open, keep and close findings for ``rows``: five queries whatever their number (and
    one INSERT per 10,000 new findings on PostgreSQL), then the webhook events of the checks
    that changed state, if any (one query when the organization has no endpoint, three when
    it has)."""
    check_ids = [c.pk for c in checks.values()]
    # The checks' open findings (no list of this run's resources: a run may hold 50,000), then
    # which of the failures without one had a finding before (those resources only).
    open_findings = {
        (check_id, resource): pk
        for pk, check_id, resource in Finding.objects.for_org(org)
        .filter(check_ref_id__in=check_ids, state=FindingState.OPEN)
        .values_list("pk", "check_ref_id", "resource_id")
    }
    new_failures = {
        r.resource_id
        for r in rows
        if r.status == ResultStatus.FAIL and (r.check_ref_id, r.resource_id) not in open_findings
    }
    closed_before = set(
        Finding.objects.for_org(org)
        .filter(check_ref_id__in=check_ids, resource_id__in=new_failures, state=FindingState.CLOSED)
        .values_list("check_ref_id", "resource_id")
        .distinct()
    )
    owner_of = {
        checks[key].pk: (chosen[0].owner_id if chosen else None) for key, chosen in controls.items()
    }
    severity_of = {c.pk: c.severity for c in checks.values()}
    due_by = {s: due_date(s, timezone.localdate(now)) for s in set(severity_of.values())}
    was_failing = {c.pk: c.failing for c in checks.values()}
    to_open, to_close = [], []
    for row in rows:
        key = (row.check_ref_id, row.resource_id)
        if row.status == ResultStatus.FAIL and key not in open_findings:
            regression = key in closed_before
            severity = severity_of[row.check_ref_id]
            to_open.append(
                (
                    org.pk,
                    row.check_ref_id,
                    row.resource_id,
                    row.resource_name,
                    FindingState.OPEN,
                    owner_of.get(row.check_ref_id),
                    severity,
                    due_by[severity],
                    now,
                    regression,
                    run.pk,
                )
            )
            summary.regressions += regression
        elif row.status == ResultStatus.PASS and key in open_findings:
            to_close.append(open_findings[key])
    opened = bulk_insert(
        Finding, org.pk, FINDING_FIELDS, to_open, returning=("id", "check_ref_id", "resource_id")
    )
    if to_close:
        Finding.objects.for_org(org).filter(pk__in=to_close).update(
            state=FindingState.CLOSED, closed_at=now, closed_by_run=run
        )
    summary.opened, summary.closed = len(to_open), len(to_close)
    finding_of = dict(open_findings)
    finding_of.update({(check_id, resource): pk for pk, check_id, resource in opened})
    closed_ids = set(to_close)
    closed = {key: pk for key, pk in open_findings.items() if pk in closed_ids}
    failing = set(
        Finding.objects.for_org(org)
        .filter(check_ref_id__in=check_ids, state=FindingState.OPEN)
        .values_list("check_ref_id", flat=True)
        .distinct()
    )
    for check in checks.values():
        check.failing, check.last_run_at = check.pk in failing, now
    Check.objects.for_org(org).bulk_update(list(checks.values()), ["failing", "last_run_at"])
    # check.failed / check.recovered: the checks whose ``failing`` changed in this run.
    if any(c.failing != was_failing[c.pk] for c in checks.values()):
        events.emit(
            org,
            events.check_transitions(
                org=org,
                run_id=run.pk,
                connection=run.connection,
                checks=list(checks.values()),
                was_failing=was_failing,
                owner_of=owner_of,
                rows=rows,
                finding_of=finding_of,
                closed=closed,
                now=now,
            ),
        )


def results_push(
    *,
    membership: Membership,
    connection: Connection,
    check: CheckSpec,
    results: Sequence[ResultSpec],
    output: RawOutput | None = None,
) -> IngestSummary:
    """A custom test's results, pushed through the API by a script or CI job (``output``: the
    request as received, stored with the run)."""
    permissions.require(membership, Action.RESULTS_PUSH)
    if connection.organization_id != membership.organization_id:
        raise NotFound("No such connection.")
    if connection.kind != ConnectionKind.CUSTOM:
        raise ValidationFailed(
            "Results are pushed only to a connection of kind custom; this one runs its own checks.",
            code="wrong_kind",
        )
    if not connection.enabled:
        raise ValidationFailed("This connection is paused: enable it first.", code="paused")
    spec = clean_check(check)
    cleaned = clean_results(results)
    return results_ingest(
        organization=membership.organization,
        connection=connection,
        batch=[(spec, cleaned)],
        source=RunSource.PUSH,
        actor=Actor.for_principal(membership),
        output=output,
    )
