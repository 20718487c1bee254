"""What a report says, read once from the database: the readiness of the audit, its scope,
the control matrix and the evidence index. Every format (PDF, CSV, XLSX, ZIP) is built from
one ``ReportContent`` so they agree with each other and with the readiness dashboard.

A fixed number of queries whatever the size: readiness (6; Type 2: 7 with
the deviations), scope (2), the matrix (2 + 1
aggregate), the evidence index (1), the withheld versions (1), the data timestamps (2) and
the appendices (``reports.appendix``: risks 1, or 5 with a register; vendors 1, or 2).

Only deliverable versions (``evidence.selectors.deliverable_versions``: clean files and what
was stored with scanning off) are in any format; files held for their malware scan or
quarantined are listed in ``withheld`` instead, which only the evidence package's manifest
shows (version and reason, never content).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from controls import charts
from controls.models import Audit, Control, ControlStatus, System
from controls.readiness import AuditReadiness, CriterionReadiness, audit_readiness
from controls.readiness_actions import evidence_due
from controls.readiness_types import ControlReadiness
from controls.selectors import audit_scope, controls_list
from controls.todo import control_due, urgency_for
from criteria.models import Category
from evidence.models import WITHHELD_REASONS, EvidenceKind, EvidenceVersion, ReviewState
from evidence.selectors import deliverable_versions, withheld_versions
from evidence.todo import next_due, with_evidence_state
from reports.appendix import RiskAppendix, VendorAppendix, risk_appendix, vendor_appendix
from soc2app.todo import Urgency


@dataclass(frozen=True)
class MatrixRow:
    code: str
    title: str
    control_type: str
    frequency: str
    owner: str
    status: str
    criteria: str  # refs, comma separated, in catalog order
    evidence_count: int
    latest_valid_until: dt.date | None
    operating: bool
    # What the control needs next and by when, as of the report's day (evidence.todo.next_due).
    next_due: dt.date | None = None
    next_due_for: str = ""


@dataclass(frozen=True)
class EvidenceRow:
    control: str
    item: str
    name: str  # the uploaded file's name, the link's address, or "data record"
    kind: str
    version: int
    effective_start: dt.date
    effective_end: dt.date
    valid_until: dt.date
    sha256: str
    review_state: str
    size: int
    storage_name: str  # the file's key in storage ("" for links and data; system-generated:
    # the raw output it summarizes)
    pk: int = 0  # the version's id
    reviewed_by: str = ""  # the reviewer's email or "Integration: …" ("" while awaiting review)
    content_type: str = ""  # a file's detected type (names it in the evidence package)


@dataclass(frozen=True)
class WithheldRow:
    """A version left out of every output: a file held for, or failed, its malware scan."""

    control: str
    item: str
    version: int
    scan_state: str
    reason: str
    pk: int


@dataclass(frozen=True)
class GapControl:
    """One applicable control of a gap: who acts on it and by when (or why no date)."""

    code: str
    status: str  # the control's status, as displayed
    owner: str  # the owner's email; "" when nobody owns it
    due: dt.date | None
    late: bool
    why_no_due: str
    due_label: str = "Due"  # "Due" (to implement it) or "Evidence due"


@dataclass(frozen=True)
class GapRow:
    criterion: CriterionReadiness
    owners: list[str]
    due_dates: list[dt.date]
    controls: list[GapControl] = field(default_factory=list)


@dataclass
class ReportContent:
    audit: Audit
    readiness: AuditReadiness
    generated_at: dt.datetime
    categories: list[Category]
    systems: list[System]
    matrix: list[MatrixRow]
    evidence: list[EvidenceRow]
    gaps: list[GapRow]
    withheld: list[WithheldRow]
    catalog_version: str
    data_as_of: dt.datetime
    periods: list[dict] = field(default_factory=list)
    # Type 2: the exceptions list (``controls.charts.exception_rows``), with deviations.
    exceptions: list[dict] = field(default_factory=list)
    # The appendices (``reports.appendix``): None when the organization has no risks/vendors.
    risks: RiskAppendix | None = None
    vendors: VendorAppendix | None = None

    @property
    def organization(self):
        return self.audit.organization

    @property
    def chart(self) -> dict:
        return charts.category_bars(self.readiness)


def _matrix(audit: Audit, readiness: AuditReadiness, today: dt.date) -> list[MatrixRow]:
    org = audit.organization_id
    ids = list(readiness.controls)
    stats = {
        row["item__control_id"]: row
        for row in _scope_versions(audit, ids, deliverable_versions)
        .order_by()
        .values("item__control_id")
        .annotate(
            n=Count("id"),
            valid=Max("valid_until", filter=Q(review_state=ReviewState.ACCEPTED)),
        )
    }
    rows = []
    for control in with_evidence_state(controls_list(org).filter(pk__in=ids), org):
        stat = stats.get(control.pk, {})
        due = next_due(control, today)
        rows.append(
            MatrixRow(
                code=control.code,
                title=control.title,
                control_type=control.get_control_type_display(),
                frequency=control.get_frequency_display(),
                owner=control.owner.user.email if control.owner_id else "",
                status=control.get_status_display(),
                criteria=", ".join(m.criterion.ref for m in control.mappings.all()),
                evidence_count=stat.get("n", 0),
                latest_valid_until=stat.get("valid"),
                operating=readiness.controls[control.pk].operating,
                next_due=due.date if due else None,
                next_due_for=(due.action + (" (overdue)" if due.overdue else "")) if due else "",
            )
        )
    return rows


def _scope_versions(
    audit: Audit,
    control_ids: list[int],
    pick: Callable[[QuerySet[EvidenceVersion]], QuerySet[EvidenceVersion]],
) -> QuerySet[EvidenceVersion]:
    """``pick`` (deliverable or withheld) of the versions of the controls' live items that the
    audit's period concerns, in the evidence index's order: for a Type 1 what was valid on the
    as-of date, for a Type 2 what covers some part of the window."""
    if audit.is_type2:
        when = Q(effective_start__lte=audit.window_end, effective_end__gte=audit.window_start)
    else:
        when = Q(effective_start__lte=audit.as_of_date, valid_until__gte=audit.as_of_date)
    return (
        pick(EvidenceVersion.objects.for_org(audit.organization_id))
        .filter(when, item__control_id__in=control_ids, item__removed_at__isnull=True)
        .order_by("item__control__code", "item__title", "item_id", "number")
    )


def _evidence(audit: Audit, control_ids: list[int]) -> list[EvidenceRow]:
    rows = _scope_versions(audit, control_ids, deliverable_versions).values_list(
        "item__control__code",
        "item__title",
        "kind",
        "original_name",
        "url",
        "number",
        "effective_start",
        "effective_end",
        "valid_until",
        "sha256",
        "review_state",
        "size",
        "file",
        "pk",
        "reviewed_by__email",
        "content_type",
        "reviewed_by_label",
    )
    out = []
    for (
        code,
        item,
        kind,
        original,
        url,
        number,
        start,
        end,
        valid,
        sha,
        state,
        size,
        key,
        pk,
        reviewer,
        content_type,
        reviewer_label,  # a system that accepted it under its rule ("Integration: …")
    ) in rows:
        if kind == EvidenceKind.FILE:
            name = original or "(unnamed file)"
        elif kind == EvidenceKind.LINK:
            name = url
        elif kind == EvidenceKind.SYSTEM:
            name = "system-generated: the run's raw output" if key else "system-generated summary"
        else:
            name = "data record"
        out.append(
            EvidenceRow(
                code,
                item,
                name,
                kind,
                number,
                start,
                end,
                valid,
                sha,
                state,
                size,
                key or "",
                pk,
                reviewer or reviewer_label or "",
                content_type,
            )
        )
    return out


def _withheld(audit: Audit, control_ids: list[int]) -> list[WithheldRow]:
    """The versions ``_evidence`` left out, so the package can say what and why."""
    rows = _scope_versions(audit, control_ids, withheld_versions).values_list(
        "item__control__code", "item__title", "number", "scan_state", "pk"
    )
    return [
        WithheldRow(code, item, number, state, WITHHELD_REASONS.get(state, state), pk)
        for code, item, number, state, pk in rows
    ]


def _gap_control(c: ControlReadiness, readiness: AuditReadiness, today: dt.date) -> GapControl:
    """What one control of a gap needs and by when: implementing, by its due date (the to-do
    list's); evidence, by the date the dashboard's next actions give; or nothing."""
    control = c.control
    owner = control.owner.user.email if control.owner_id else ""
    status = control.get_status_display()
    if control.status != ControlStatus.IMPLEMENTED:
        due = control_due(control, today)
        return GapControl(control.code, status, owner, due.date, due.late, due.why_none)
    if c.evidence_ok and not c.missing_periods:
        return GapControl(control.code, status, owner, None, False, "Operating: nothing due")
    day = evidence_due(c, readiness)
    late = day is not None and urgency_for(day, today) == Urgency.OVERDUE
    why = "" if day else "No evidence due date: no period left in the window"
    return GapControl(control.code, status, owner, day, late, why, "Evidence due")


def _gaps(readiness: AuditReadiness, today: dt.date) -> list[GapRow]:
    rows = []
    for criterion in readiness.gaps:
        controls = [c for c in criterion.controls if c.control.is_applicable]
        due = sorted({c.control.due_date for c in controls if c.control.due_date is not None})
        acting = [_gap_control(c, readiness, today) for c in controls]
        rows.append(GapRow(criterion, criterion.owners, due, acting))
    return rows


def _data_as_of(audit: Audit, control_ids: list[int]) -> dt.datetime:
    """The newest change among the rows the report uses: the audit, its controls, and the
    upload or review of their evidence."""
    org = audit.organization_id
    controls = (
        Control.objects.for_org(org).filter(pk__in=control_ids).aggregate(t=Max("updated_at"))
    )
    versions = (
        EvidenceVersion.objects.for_org(org)
        .filter(item__control_id__in=control_ids)
        .aggregate(up=Max("uploaded_at"), rev=Max("reviewed_at"), gone=Max("item__removed_at"))
    )
    stamps = [audit.created_at, controls["t"], *versions.values()]
    return max(s for s in stamps if s is not None)


def report_content(audit: Audit, *, today: dt.date | None = None) -> ReportContent:
    today = today or timezone.localdate()
    readiness = audit_readiness(audit, today=today)
    keys, systems = audit_scope(audit)
    framework = audit.framework
    categories = list(Category.objects.filter(framework=framework, key__in=keys))
    control_ids = list(readiness.controls)
    return ReportContent(
        audit=audit,
        readiness=readiness,
        generated_at=timezone.now(),
        categories=categories,
        systems=systems,
        matrix=_matrix(audit, readiness, today or timezone.localdate()),
        evidence=_evidence(audit, control_ids),
        gaps=_gaps(readiness, today),
        withheld=_withheld(audit, control_ids),
        catalog_version=f"{framework.name} {framework.version}",
        data_as_of=_data_as_of(audit, control_ids),
        periods=charts.period_rows(readiness) if audit.is_type2 else [],
        exceptions=charts.exception_rows(readiness) if audit.is_type2 else [],
        risks=risk_appendix(audit.organization, today),
        vendors=vendor_appendix(audit.organization, today),
    )
