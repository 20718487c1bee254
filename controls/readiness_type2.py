"""Type 2 half of the readiness engine: sub-periods, evidence per period, exceptions.

The rules are stated in ``controls.readiness``; how a version counts (manual or automatic)
and the sample sizes are in ``controls.operation``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count
from django.utils import timezone

from controls.models import Audit, Control, FrequencyRule
from controls.operation import counted, span_flag, suggested_sample
from controls.periods import Period, split_window, statuses_of
from controls.readiness_types import ControlException, ControlReadiness, ExceptionKind
from evidence.models import ReviewState


def fmt(day: dt.date) -> str:
    return f"{day:%d %b %Y}"


def evaluate_type2(
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
    samples: dict[str, str] = {}
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
            samples[control.frequency] = (
                suggested_sample(rule, start, end, len(periods)) if rule else ""
            )
        periods = splits[control.frequency]
        flags = counted(periods, ranges[pk], control.operation)
        adopted = timezone.localdate(control.created_at, tz)
        readiness = ControlReadiness(
            control,
            evidence_ok=False,
            accepted=accepted[pk],
            pending=pending[pk],
            periods=list(zip(periods, statuses_of(periods, flags, today), strict=True)),
            sample=samples[control.frequency],
            periods_ended=sum(1 for p in periods if p.end < today),
            adopted_on=adopted if adopted > start else None,
            reviewers=sorted(reviewers[pk]),
            flags=[
                flag
                for r_start, r_end in sorted(set(ranges[pk]))
                if (
                    flag := span_flag(periods, r_start, r_end, control.operation, control.frequency)
                )
            ],
        )
        _note(readiness, periods, pending[pk])
        out[pk] = readiness
    return out


def _note(readiness: ControlReadiness, periods: list[Period], pending: int) -> None:
    missing = readiness.missing_periods
    if readiness.periods_ended:
        readiness.evidence_ok = not missing
    else:
        readiness.evidence_ok = bool(readiness.covered_periods)
        if not readiness.evidence_ok:
            readiness.note = (
                f"no accepted evidence in the window yet (the first period ends "
                f"{fmt(periods[0].end)})"
            )
    if missing:
        ended_count = readiness.periods_ended
        shown = ", ".join(p.label for p in missing[:3]) + (" …" if len(missing) > 3 else "")
        readiness.note = (
            f"no accepted evidence for {len(missing)} of {ended_count} "
            f"{'ended ' if ended_count < len(periods) else ''}periods: {shown}"
        )
        if readiness.adopted_on and missing[0].start < readiness.adopted_on:
            readiness.note += f" (adopted on {fmt(readiness.adopted_on)}, after the window started)"
    if readiness.note and pending:
        readiness.note += f"; {pending} awaiting review"


def collect_exceptions(
    evaluated: Iterable[ControlReadiness], deviations: Iterable = ()
) -> list[ControlException]:
    """Every applicable control's missing periods, with the deviations recorded on them; a
    deviation on a period that is not missing is an exception of its own."""
    by_control: dict[int, list] = defaultdict(list)
    for deviation in deviations:
        by_control[deviation.control_id].append(deviation)
    found: list[ControlException] = []
    for c in evaluated:
        if not c.control.is_applicable:
            continue
        recorded = sorted(by_control.get(c.control.pk, []), key=lambda d: d.period_start)
        for period in c.missing_periods:
            match = next(
                (d for d in recorded if period.overlaps(d.period_start, d.period_end)), None
            )
            if match is not None:
                recorded.remove(match)
            c.exceptions.append(
                ControlException(
                    c.control,
                    period,
                    ExceptionKind.MISSING,
                    f"{c.control.code} has no evidence for {period.label}",
                    deviation=match,
                )
            )
        for d in recorded:
            c.exceptions.append(
                ControlException(
                    c.control,
                    Period(d.period_start, d.period_end),
                    ExceptionKind.DEVIATION,
                    f"{c.control.code} deviated: {d.what_happened}",
                    deviation=d,
                )
            )
        found.extend(c.exceptions)
    return sorted(found, key=lambda e: e.sort_key)
