"""Type 2 half of the readiness engine: sub-periods, evidence per period, exceptions.

The rules are stated in ``controls.readiness``; how a version counts (manual or automatic)
and the sample sizes are in ``controls.operation``.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count
from django.utils import timezone

from controls.models import Audit, Control, FrequencyRule
from controls.operation import counted, span_flag, suggested_sample
from controls.periods import Period, PeriodStatus, split_window, statuses_of
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
            "reviewed_by_label",
            "failure",
            "is_latest",
        )
        .annotate(n=Count("id"))
    )
    ranges: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    accepted: dict[int, int] = defaultdict(int)
    pending: dict[int, int] = defaultdict(int)
    reviewers: dict[int, set[str]] = defaultdict(set)
    # System-generated versions reporting a failure (accepted or awaiting review: only a
    # rejection takes a reported failure back), and what the latest ones report now.
    failures: dict[int, list[tuple[dt.date, dt.date, str]]] = defaultdict(list)
    failing_now: dict[int, list[str]] = defaultdict(list)
    for control_id, state, e_start, e_end, reviewer, label, failure, latest, n in rows:
        if failure:
            failures[control_id].append((e_start, e_end, failure))
            if latest:
                failing_now[control_id].append(failure)
        if state == ReviewState.ACCEPTED:
            ranges[control_id].append((e_start, e_end))
            accepted[control_id] += n
            if reviewer or label:
                reviewers[control_id].add(reviewer or label)
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
        statuses = statuses_of(periods, flags, today)
        failed = failed_in(periods, failures[pk]) if failures[pk] else []
        if failed:
            failed_at = {p for p, _ in failed}
            statuses = [
                PeriodStatus.FAILED if p in failed_at else st
                for p, st in zip(periods, statuses, strict=True)
            ]
        adopted = timezone.localdate(control.created_at, tz)
        readiness = ControlReadiness(
            control,
            evidence_ok=False,
            accepted=accepted[pk],
            pending=pending[pk],
            periods=list(zip(periods, statuses, strict=True)),
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
            failures=failed,
            failing_tests=sorted(set(failing_now[pk])),
        )
        _note(readiness, periods, pending[pk])
        out[pk] = readiness
    return out


def failed_in(
    periods: list[Period], failures: list[tuple[dt.date, dt.date, str]]
) -> list[tuple[Period, list[tuple[dt.date, str]]]]:
    """The periods (in order) that a failing version's range overlaps, each with the (day,
    what failed) of its failures, days in order. A binary search per failure."""
    starts = [p.start for p in periods]
    found: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for f_start, f_end, text in failures:
        i = max(bisect_right(starts, f_start) - 1, 0)
        while i < len(periods) and periods[i].start <= f_end:
            if periods[i].overlaps(f_start, f_end):
                found[i].append((max(f_start, periods[i].start), text))
            i += 1
    return [(periods[i], sorted(set(found[i]))) for i in sorted(found)]


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
    if readiness.failures:
        failed = [p for p, _ in readiness.failures]
        shown = ", ".join(p.label for p in failed[:3]) + (" …" if len(failed) > 3 else "")
        said = (
            f"automated tests failed in {len(failed)} period{'s' if len(failed) != 1 else ''}: "
            f"{shown}"
        )
        readiness.note = f"{readiness.note}; {said}" if readiness.note else said
        readiness.evidence_ok = False
    if readiness.note and pending:
        readiness.note += f"; {pending} awaiting review"


def failure_detail(code: str, failures: list[tuple[dt.date, str]]) -> str:
    """ "AC-01's automated tests failed on 3, 4 and 5 Mar 2026: Test '…' failing on 2 resources
    since 3 Mar 2026 (…)": the days, then what failed (the latest report, and how many others)."""
    days = sorted({day for day, _ in failures})
    if len(days) <= 3:
        when = ", ".join(fmt(d) for d in days)
    else:
        when = f"{len(days)} days ({fmt(days[0])} – {fmt(days[-1])})"
    texts = list(dict.fromkeys(text for _, text in reversed(failures)))
    what = texts[0] + (f"; and {len(texts) - 1} other reports" if len(texts) > 1 else "")
    return f"{code}'s automated tests failed on {when}: {what}"


def collect_exceptions(
    evaluated: Iterable[ControlReadiness], deviations: Iterable = ()
) -> list[ControlException]:
    """Every applicable control's missing periods and periods in which its automated tests
    failed, with the deviations recorded on them; a deviation on a period that is neither is
    an exception of its own."""
    by_control: dict[int, list] = defaultdict(list)
    for deviation in deviations:
        by_control[deviation.control_id].append(deviation)
    found: list[ControlException] = []
    for c in evaluated:
        if not c.control.is_applicable:
            continue
        recorded = sorted(by_control.get(c.control.pk, []), key=lambda d: d.period_start)
        failed = dict(c.failures)
        for period in sorted([*c.missing_periods, *failed], key=lambda p: p.start):
            match = next(
                (d for d in recorded if period.overlaps(d.period_start, d.period_end)), None
            )
            if match is not None:
                recorded.remove(match)
            kind, detail = (
                (ExceptionKind.TEST_FAILED, failure_detail(c.control.code, failed[period]))
                if period in failed
                else (ExceptionKind.MISSING, f"{c.control.code} has no evidence for {period.label}")
            )
            c.exceptions.append(ControlException(c.control, period, kind, detail, deviation=match))
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


def merge_found(
    found: list[ControlException],
    evaluated: dict[int, ControlReadiness],
    extra: Iterable[ControlException],
    deviations: Iterable = (),
) -> list[ControlException]:
    """Exceptions found elsewhere (``controls.readiness_providers``: failed sample items) join
    the list and their control's readiness. A recorded deviation of the control whose period
    holds the item's date is its management response, and stops being an exception of its own.
    Exceptions of controls out of scope or not applicable are left out, like their periods."""
    by_control: dict[int, list] = defaultdict(list)
    for deviation in sorted(deviations, key=lambda d: (d.period_start, d.pk)):
        by_control[deviation.control_id].append(deviation)
    attached: set[int] = set()
    touched: set[int] = set()
    out = list(found)
    for x in extra:
        c = evaluated.get(x.control.pk)
        if c is None or not c.control.is_applicable:
            continue
        if x.deviation is None:
            x.deviation = next(
                (
                    d
                    for d in by_control.get(c.control.pk, [])
                    if x.period.overlaps(d.period_start, d.period_end)
                ),
                None,
            )
        if x.deviation is not None:
            attached.add(x.deviation.pk)
        c.exceptions.append(x)
        touched.add(c.control.pk)
        out.append(x)
    if attached:
        out = [e for e in out if not _answered(e, attached)]
    for pk in touched:
        c = evaluated[pk]
        c.exceptions = sorted(
            (e for e in c.exceptions if not _answered(e, attached)), key=lambda e: e.sort_key
        )
    return sorted(out, key=lambda e: e.sort_key)


def _answered(e: ControlException, attached: set[int]) -> bool:
    """A deviation-only row whose deviation now answers a failed item."""
    return e.kind == ExceptionKind.DEVIATION and e.deviation.pk in attached
