"""The readiness engine: is each criterion in an audit's scope met, partly met, or a gap?

A criterion is **met** when at least one mapped, applicable control is implemented and has
accepted, current evidence: for Type 1, valid on the as-of date (``effective_start`` on or
before it and ``valid_until`` on or after it); for Type 2, in every sub-period of the window
that the control's frequency implies (``controls.periods``). **Partial** when something is in
place but not enough; **gap** when nothing is: no control mapped, only not-applicable controls
mapped, or every applicable control not started and without accepted evidence. A criterion
answered "not applicable" in the self-assessment is left out of the score. Only accepted
versions of evidence items that have not been removed count, and only deliverable ones (a file
held for its malware scan or quarantined is no evidence: ``deliverable_versions``); pending
ones are reported as "awaiting review". A met reason names who reviewed the evidence. Every status carries the reasons behind it, naming controls and periods,
so each figure can be traced to rows.

Type 2 audits still in progress: a sub-period that has not ended by today (its last day is
today or later) and has no accepted evidence is **upcoming**, not missing. A control is
operating when every sub-period that has ended is covered; when no sub-period has ended yet,
it needs at least one accepted evidence version overlapping the window. Once the window is
over, every period has ended and the rule is the plain one above.

Scores: met counts 1, partial 0.5, gap 0, over the criteria that are not "not applicable";
per category and overall, as a percentage with one decimal.

The computation takes a fixed number of queries whatever the number of controls or evidence
versions (see ``audit_readiness``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.db.models import Count, Q
from django.utils import timezone

from controls.models import (
    Answer,
    Audit,
    AuditCategory,
    Control,
    ControlCriterion,
    ControlStatus,
    FrequencyRule,
    SelfAssessmentAnswer,
)
from controls.periods import Period, PeriodStatus, period_statuses, split_window
from criteria.models import Criterion
from evidence.models import EvidenceVersion, ReviewState
from evidence.selectors import deliverable_versions

WEIGHTS = {"met": Decimal(1), "partial": Decimal("0.5"), "gap": Decimal(0)}

__all__ = [
    "AuditReadiness",
    "CategoryReadiness",
    "ControlReadiness",
    "CriterionReadiness",
    "PeriodStatus",
    "Status",
    "audit_readiness",
]


class Status(StrEnum):
    MET = "met"
    PARTIAL = "partial"
    GAP = "gap"
    NOT_APPLICABLE = "not_applicable"


@dataclass
class ControlReadiness:
    control: Control
    evidence_ok: bool
    # Accepted (Type 1: current on the as-of date; Type 2: overlapping the window) and pending
    # evidence versions of items that have not been removed.
    accepted: int = 0
    pending: int = 0
    # Type 2 only: each sub-period of the window and whether it is covered, missing or upcoming.
    periods: list[tuple[Period, PeriodStatus]] = field(default_factory=list)
    sample: str = ""
    note: str = ""
    # Type 2 only: how many of ``periods`` have ended (the last day is before today), and the
    # day the control was added when that was after the window started.
    periods_ended: int = 0
    adopted_on: dt.date | None = None
    # Who accepted the versions counted in ``accepted`` (emails, sorted): segregation of
    # duties is visible in every reason that says a control is met.
    reviewers: list[str] = field(default_factory=list)

    @property
    def operating(self) -> bool:
        return self.control.status == ControlStatus.IMPLEMENTED and self.evidence_ok

    @property
    def missing_periods(self) -> list[Period]:
        return [p for p, s in self.periods if s == PeriodStatus.MISSING]

    @property
    def upcoming_periods(self) -> list[Period]:
        return [p for p, s in self.periods if s == PeriodStatus.UPCOMING]

    @property
    def covered_periods(self) -> list[Period]:
        return [p for p, s in self.periods if s == PeriodStatus.COVERED]


@dataclass
class CriterionReadiness:
    criterion: Criterion
    status: Status
    reasons: list[str]
    controls: list[ControlReadiness]
    answer: SelfAssessmentAnswer | None

    @property
    def owners(self) -> list[str]:
        labels = {c.control.owner.user.email for c in self.controls if c.control.owner_id}
        return sorted(labels)


@dataclass
class CategoryReadiness:
    key: str
    name: str
    counts: dict[str, int]
    score: Decimal

    @property
    def total(self) -> int:
        return sum(self.counts[s] for s in ("met", "partial", "gap"))


@dataclass
class AuditReadiness:
    audit: Audit
    computed_at: dt.datetime
    criteria: list[CriterionReadiness]
    categories: list[CategoryReadiness]
    controls: dict[int, ControlReadiness]
    score: Decimal
    counts: dict[str, int]

    @property
    def gaps(self) -> list[CriterionReadiness]:
        return [c for c in self.criteria if c.status in (Status.GAP, Status.PARTIAL)]


def _score(counts: dict[str, int]) -> Decimal:
    total = counts["met"] + counts["partial"] + counts["gap"]
    if not total:
        return Decimal("0.0")
    points = sum(WEIGHTS[s] * counts[s] for s in WEIGHTS)
    return (points * 100 / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _zero_counts() -> dict[str, int]:
    return dict.fromkeys([*WEIGHTS, Status.NOT_APPLICABLE.value], 0)


def _fmt(day: dt.date) -> str:
    return f"{day:%d %b %Y}"


def audit_readiness(audit: Audit, *, today: dt.date | None = None) -> AuditReadiness:
    """Readiness of ``audit`` in six queries: scope, criteria, mappings (with controls and
    owners), frequency rules, evidence and self-assessment answers.

    ``today`` (default: the local date) decides which Type 2 sub-periods have ended.
    """
    today = today or timezone.localdate()
    org = audit.organization_id
    category_ids = list(
        AuditCategory.objects.for_org(org).filter(audit=audit).values_list("category_id", flat=True)
    )
    criteria = list(
        Criterion.objects.filter(framework_id=audit.framework_id, category_id__in=category_ids)
        .select_related("category")
        .order_by("position")
    )
    mappings = (
        ControlCriterion.objects.for_org(org)
        .filter(criterion_id__in=[c.pk for c in criteria])
        .select_related("control__owner__user")
        .order_by("control__code")
    )
    controls_by_criterion: dict[int, list[Control]] = defaultdict(list)
    controls: dict[int, Control] = {}
    for m in mappings:
        controls_by_criterion[m.criterion_id].append(m.control)
        controls[m.control_id] = m.control

    rules = {r.frequency: r for r in FrequencyRule.objects.all()}
    evaluated = _evaluate_controls(audit, controls, rules, today)
    answers = {
        a.criterion_id: a for a in SelfAssessmentAnswer.objects.for_org(org).filter(audit=audit)
    }

    results = [
        _criterion(
            c, [evaluated[ctl.pk] for ctl in controls_by_criterion[c.pk]], answers.get(c.pk), audit
        )
        for c in criteria
    ]
    categories: dict[str, CategoryReadiness] = {}
    totals = _zero_counts()
    for r in results:
        cat = r.criterion.category
        entry = categories.setdefault(
            cat.key, CategoryReadiness(cat.key, cat.name, _zero_counts(), Decimal(0))
        )
        entry.counts[r.status] += 1
        totals[r.status] += 1
    for entry in categories.values():
        entry.score = _score(entry.counts)
    return AuditReadiness(
        audit=audit,
        computed_at=timezone.now(),
        criteria=results,
        categories=list(categories.values()),
        controls=evaluated,
        score=_score(totals),
        counts=totals,
    )


def _evaluate_controls(
    audit: Audit, controls: dict[int, Control], rules: dict[str, FrequencyRule], today: dt.date
) -> dict[int, ControlReadiness]:
    # Default ordering (-number) would leak into GROUP BY / DISTINCT: clear it.
    # A file waiting for its malware scan, or quarantined, proves nothing yet.
    versions = (
        deliverable_versions(EvidenceVersion.objects.for_org(audit.organization_id))
        .filter(item__control_id__in=list(controls), item__removed_at__isnull=True)
        .order_by()
    )
    if not audit.is_type2:
        return _evaluate_type1(audit, controls, versions)
    return _evaluate_type2(audit, controls, versions, rules, today)


def _evaluate_type1(
    audit: Audit, controls: dict[int, Control], versions
) -> dict[int, ControlReadiness]:
    as_of = audit.as_of_date
    current = Q(
        review_state=ReviewState.ACCEPTED, effective_start__lte=as_of, valid_until__gte=as_of
    )
    # One row per (control, reviewer): the reviewer is joined in the same query.
    rows = versions.values("item__control_id", "reviewed_by__email").annotate(
        accepted=Count("id", filter=current),
        pending=Count("id", filter=Q(review_state=ReviewState.PENDING)),
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"accepted": 0, "pending": 0})
    reviewers: dict[int, set[str]] = defaultdict(set)
    for r in rows:
        row = counts[r["item__control_id"]]
        row["accepted"] += r["accepted"]
        row["pending"] += r["pending"]
        if r["accepted"] and r["reviewed_by__email"]:
            reviewers[r["item__control_id"]].add(r["reviewed_by__email"])
    out = {}
    for pk, control in controls.items():
        row = counts.get(pk, {"accepted": 0, "pending": 0})
        note = "" if row["accepted"] else f"no accepted evidence valid on {_fmt(as_of)}"
        if note and row["pending"]:
            note += f" ({row['pending']} awaiting review)"
        out[pk] = ControlReadiness(
            control,
            row["accepted"] > 0,
            row["accepted"],
            row["pending"],
            note=note,
            reviewers=sorted(reviewers.get(pk, ())),
        )
    return out


def _evaluate_type2(
    audit: Audit,
    controls: dict[int, Control],
    versions,
    rules: dict[str, FrequencyRule],
    today: dt.date,
) -> dict[int, ControlReadiness]:
    start, end = audit.window_start, audit.window_end
    # One row per distinct (control, state, range) with its count: 50,000 versions usually
    # collapse to far fewer ranges.
    rows = (
        versions.filter(
            effective_start__lte=end,
            effective_end__gte=start,
            review_state__in=[ReviewState.ACCEPTED, ReviewState.PENDING],
        )
        .values_list(
            "item__control_id",
            "review_state",
            "effective_start",
            "effective_end",
            "reviewed_by__email",
        )
        .annotate(n=Count("id"))
    )
    ranges: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    accepted: dict[int, int] = defaultdict(int)
    pending: dict[int, int] = defaultdict(int)
    reviewers: dict[int, set[str]] = defaultdict(set)
    for control_id, state, e_start, e_end, reviewer, n in rows:
        if state == ReviewState.ACCEPTED:
            ranges[control_id].append((e_start, e_end))
            accepted[control_id] += n
            if reviewer:
                reviewers[control_id].add(reviewer)
        else:
            pending[control_id] += n
    out = {}
    splits: dict[str, list[Period]] = {}  # one split per frequency, shared by its controls
    tz = timezone.get_current_timezone()  # looked up once: it is slow per call
    for pk, control in controls.items():
        rule = rules.get(control.frequency)
        if control.frequency not in splits:
            splits[control.frequency] = (
                split_window(start, end, rule.period_unit, rule.period_length)
                if rule
                else [Period(start, end)]
            )
        periods = splits[control.frequency]
        statuses = period_statuses(periods, ranges[pk], today)
        adopted = timezone.localdate(control.created_at, tz)
        readiness = ControlReadiness(
            control,
            evidence_ok=False,
            accepted=accepted[pk],
            pending=pending[pk],
            periods=list(zip(periods, statuses, strict=True)),
            sample=rule.sample_label if rule else "",
            periods_ended=sum(1 for p in periods if p.end < today),
            adopted_on=adopted if adopted > start else None,
            reviewers=sorted(reviewers[pk]),
        )
        missing = readiness.missing_periods
        if readiness.periods_ended:
            readiness.evidence_ok = not missing
        else:
            readiness.evidence_ok = accepted[pk] > 0
            if not readiness.evidence_ok:
                readiness.note = (
                    f"no accepted evidence in the window yet (the first period ends "
                    f"{_fmt(periods[0].end)})"
                )
        if missing:
            ended_count = readiness.periods_ended
            shown = ", ".join(p.label for p in missing[:3]) + (" …" if len(missing) > 3 else "")
            readiness.note = (
                f"no accepted evidence for {len(missing)} of {ended_count} "
                f"{'ended ' if ended_count < len(periods) else ''}periods: {shown}"
            )
            if readiness.adopted_on and missing[0].start < readiness.adopted_on:
                readiness.note += (
                    f" (adopted on {_fmt(readiness.adopted_on)}, after the window started)"
                )
        if readiness.note and pending[pk]:
            readiness.note += f"; {pending[pk]} awaiting review"
        out[pk] = readiness
    return out


def _met_reason(c: ControlReadiness, audit: Audit) -> str:
    upcoming = len(c.upcoming_periods)
    if not audit.is_type2:
        what = "evidence current on the as-of date"
    elif not upcoming:
        what = "evidence in every period"
    elif c.periods_ended:
        what = f"evidence in every ended period; {upcoming} still to come"
    else:
        what = f"evidence in the window so far; {upcoming} periods still to come"
    if c.reviewers:
        what += f"; reviewed by {', '.join(c.reviewers)}"
    return f"Met by {c.control.code} (implemented, {what})."


def _criterion(
    criterion: Criterion,
    mapped: list[ControlReadiness],
    answer: SelfAssessmentAnswer | None,
    audit: Audit,
) -> CriterionReadiness:
    if answer is not None and answer.answer == Answer.NOT_APPLICABLE:
        reason = f"Marked not applicable in the self-assessment: {answer.notes}"
        return CriterionReadiness(criterion, Status.NOT_APPLICABLE, [reason], mapped, answer)
    applicable = [c for c in mapped if c.control.is_applicable]
    if not mapped:
        return CriterionReadiness(
            criterion, Status.GAP, ["No control is mapped to this criterion."], mapped, answer
        )
    if not applicable:
        reason = "Every mapped control is marked not applicable; map a control that applies."
        return CriterionReadiness(criterion, Status.GAP, [reason], mapped, answer)
    operating = [c for c in applicable if c.operating]
    if operating:
        reasons = [_met_reason(c, audit) for c in operating]
        return CriterionReadiness(criterion, Status.MET, reasons, mapped, answer)
    reasons = []
    for c in applicable:
        state = c.control.get_status_display().lower()
        if c.control.status != ControlStatus.IMPLEMENTED:
            reasons.append(f"{c.control.code} is {state}" + (f"; {c.note}." if c.note else "."))
        else:
            reasons.append(f"{c.control.code} is implemented but has {c.note}.")
    nothing = all(
        c.control.status == ControlStatus.NOT_STARTED and c.accepted == 0 for c in applicable
    )
    return CriterionReadiness(
        criterion, Status.GAP if nothing else Status.PARTIAL, reasons, mapped, answer
    )
