"""The readiness engine: is each criterion in an audit's scope met, partly met, or a gap?

A criterion is **met** when at least one mapped, applicable control is implemented and has
accepted, current evidence: for Type 1, valid on the as-of date (``effective_start`` on or
before it and ``valid_until`` on or after it); for Type 2, in every sub-period of the window
that the control's frequency implies (``controls.periods``). **Partial** when something is in
place but not enough: a mapped, applicable control is implemented, or has accepted evidence
(Type 1: valid on the as-of date; Type 2: in at least one sub-period that has ended).
**Gap** otherwise: no control mapped, only not-applicable controls mapped, or controls merely
adopted (not started, in progress) without such evidence: adopting is not progress. A criterion
answered "not applicable" in the self-assessment is left out of the score. Only accepted
versions of evidence items that have not been removed count, and only deliverable ones (a file
held for its malware scan or quarantined is no evidence: ``deliverable_versions``); pending
ones are reported as "awaiting review". A met reason names who reviewed the evidence. Every
status carries the reasons behind it, naming controls and periods, so each figure can be traced
to rows.

Type 2, how evidence counts (``controls.operation``, rules in ``frequency_rules.yaml``): a
**manual** control (a person performs it) needs one performance per sub-period, so a version
counts only for the sub-period containing its effective end, and one spanning several
sub-periods is flagged; an **automatic** control (a system reports) is covered in every
sub-period a version overlaps.

Type 2 audits still in progress: a sub-period that has not ended by today (its last day is
today or later) and has no accepted evidence is **upcoming**, not missing. A control is
operating when every sub-period that has ended is covered; when no sub-period has ended yet,
it needs accepted evidence counting for at least one sub-period. Once the window is over,
every period has ended and the rule is the plain one above.

**Automated tests** (system-generated evidence, ``evidence.system``): a version that reports a
failure (``EvidenceVersion.failure``: a test failed on some resources) and was not rejected
makes every sub-period its range overlaps **failed**: an exception, not covered, even when
other evidence covers it; the control is then not operating. The failures its latest versions
report (accepted or awaiting review) are named in the reasons of its criteria ("AC-01: Test
'S3 buckets are encrypted' failing on 2 resources since 3 Dec 2026 (…)"), Type 1 and Type 2
alike; for Type 1 they do not change the status.

**Exceptions** (Type 2): every missing or failed period of every mapped, applicable control,
and every recorded deviation, with the management response. A met criterion still lists the exceptions
of its other mapped controls in its reasons. Items an auditor marks *exception* in sample
testing join the same list as **failed** (control, the item's date and id, the note, who
tested it; registered by ``reports`` through ``controls.readiness_providers``): their control
is operating with exceptions, its criterion's reasons name each one, and a recorded deviation
whose period holds the item's date is its management response.

Scores: met counts 1, partial 0.5, gap 0, over the criteria that are not "not applicable";
per category and overall, as a percentage with one decimal. Beside it, two plain figures:
controls implemented (of the applicable ones in scope) and periods evidenced (covered of ended).

The computation takes a fixed number of queries whatever the number of controls, evidence
versions, exceptions or deviations (see ``audit_readiness``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, Count, F, Q, Value, When
from django.utils import timezone

from controls.models import (
    Answer,
    Audit,
    AuditCategory,
    Control,
    ControlCriterion,
    ControlStatus,
    Deviation,
    FrequencyRule,
    SelfAssessmentAnswer,
)
from controls.periods import PeriodStatus
from controls.readiness_providers import exception_providers
from controls.readiness_type2 import collect_exceptions, evaluate_type2, fmt, merge_found
from controls.readiness_types import (
    AuditReadiness,
    CategoryReadiness,
    ControlException,
    ControlReadiness,
    CriterionReadiness,
    ExceptionKind,
    Status,
)
from criteria.models import Criterion
from evidence.models import EvidenceVersion, ReviewState
from evidence.selectors import deliverable_versions

WEIGHTS = {"met": Decimal(1), "partial": Decimal("0.5"), "gap": Decimal(0)}

__all__ = [
    "AuditReadiness",
    "CategoryReadiness",
    "ControlException",
    "ControlReadiness",
    "CriterionReadiness",
    "ExceptionKind",
    "PeriodStatus",
    "Status",
    "audit_readiness",
]


def _score(counts: dict[str, int]) -> Decimal:
    total = counts["met"] + counts["partial"] + counts["gap"]
    if not total:
        return Decimal("0.0")
    points = sum(WEIGHTS[s] * counts[s] for s in WEIGHTS)
    return (points * 100 / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _zero_counts() -> dict[str, int]:
    return dict.fromkeys([*WEIGHTS, Status.NOT_APPLICABLE.value], 0)


def audit_readiness(
    audit: Audit, *, today: dt.date | None = None, only_controls: Iterable[int] | None = None
) -> AuditReadiness:
    """Readiness of ``audit`` in six queries: scope, criteria, mappings (with controls and
    owners), frequency rules, evidence and self-assessment answers; a Type 2 audit adds a
    seventh for the deviations recorded in its window and one per registered exception
    provider (an eighth with ``reports``: the items failed in sample testing).

    ``today`` (default: the local date) decides which Type 2 sub-periods have ended.
    ``only_controls`` evaluates just these controls (the dashboard's coverage detail of one
    control): their periods and exceptions are the full ones, but the criteria and scores
    then describe those controls alone.
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
        .filter(**({} if only_controls is None else {"control_id__in": list(only_controls)}))
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
    exceptions: list[ControlException] = []
    if audit.is_type2:
        deviations = _deviations(audit, controls)
        exceptions = collect_exceptions(evaluated.values(), deviations)
        # Registered by other apps (reports: failed sample items), one query each.
        found = [x for provider in exception_providers() for x in provider(audit, evaluated)]
        exceptions = merge_found(exceptions, evaluated, found, deviations)
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
        exceptions=exceptions,
    )


def _deviations(audit: Audit, controls: dict[int, Control]) -> list[Deviation]:
    """Recorded deviations of these controls overlapping the window (the seventh query)."""
    rows = list(
        Deviation.objects.for_org(audit.organization_id)
        .filter(
            control_id__in=list(controls),
            period_start__lte=audit.window_end,
            period_end__gte=audit.window_start,
        )
        .select_related("recorded_by__user")
    )
    for row in rows:
        row.control = controls[row.control_id]  # already loaded: no query per deviation
    return rows


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
    return evaluate_type2(audit, controls, versions, rules, today)


def _evaluate_type1(
    audit: Audit, controls: dict[int, Control], versions
) -> dict[int, ControlReadiness]:
    as_of = audit.as_of_date
    current = Q(
        review_state=ReviewState.ACCEPTED, effective_start__lte=as_of, valid_until__gte=as_of
    )
    # One row per (control, reviewer, what its latest system-generated versions report
    # failing): the reviewer is joined in the same query.
    failing_now = Case(
        When(
            Q(is_latest=True) & ~Q(review_state=ReviewState.REJECTED) & ~Q(failure=""),
            then=F("failure"),
        ),
        default=Value(""),
    )
    rows = versions.values(
        "item__control_id", "reviewed_by__email", "reviewed_by_label", failing_now=failing_now
    ).annotate(
        accepted=Count("id", filter=current),
        pending=Count("id", filter=Q(review_state=ReviewState.PENDING)),
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"accepted": 0, "pending": 0})
    reviewers: dict[int, set[str]] = defaultdict(set)
    failing: dict[int, set[str]] = defaultdict(set)
    for r in rows:
        row = counts[r["item__control_id"]]
        row["accepted"] += r["accepted"]
        row["pending"] += r["pending"]
        reviewer = r["reviewed_by__email"] or r["reviewed_by_label"]
        if r["accepted"] and reviewer:
            reviewers[r["item__control_id"]].add(reviewer)
        if r["failing_now"]:
            failing[r["item__control_id"]].add(r["failing_now"])
    out = {}
    for pk, control in controls.items():
        row = counts.get(pk, {"accepted": 0, "pending": 0})
        note = "" if row["accepted"] else f"no accepted evidence valid on {fmt(as_of)}"
        if note and row["pending"]:
            note += f" ({row['pending']} awaiting review)"
        out[pk] = ControlReadiness(
            control,
            row["accepted"] > 0,
            row["accepted"],
            row["pending"],
            note=note,
            reviewers=sorted(reviewers.get(pk, ())),
            failing_tests=sorted(failing.get(pk, ())),
        )
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
    if c.failed_items:
        what += f"; operating with exceptions: {c.failed_items} failed in sample testing"
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
    failing = [f"{c.control.code}: {t}." for c in applicable for t in c.failing_tests]
    if operating:
        reasons = [_met_reason(c, audit) for c in operating] + failing
        # Met, but an auditor still reports the other controls' exceptions.
        named = [_exception_reason(e) for c in applicable for e in c.exceptions]
        return CriterionReadiness(
            criterion, Status.MET, reasons + named, mapped, answer, exception_reasons=named
        )
    reasons, named = [], []
    for c in applicable:
        state = c.control.get_status_display().lower()
        if c.control.status != ControlStatus.IMPLEMENTED:
            reasons.append(f"{c.control.code} is {state}" + (f"; {c.note}." if c.note else "."))
        else:
            reasons.append(f"{c.control.code} is implemented but has {c.note}.")
        # Missing periods are in the note above; failed items are named one by one.
        failed = [_exception_reason(e) for e in c.exceptions if e.kind == ExceptionKind.FAILED]
        reasons += failed
        named += failed
        reasons += [f"{c.control.code}: {t}." for t in c.failing_tests]
    started = any(c.started for c in applicable)
    return CriterionReadiness(
        criterion,
        Status.PARTIAL if started else Status.GAP,
        reasons,
        mapped,
        answer,
        exception_reasons=named,
    )


def _exception_reason(e: ControlException) -> str:
    return f"Exception: {e.detail.rstrip('.')}."
