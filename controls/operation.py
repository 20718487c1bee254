"""How one evidence version counts towards a control's sub-periods, and how big a sample fits.

The rules are data (``controls/data/frequency_rules.yaml``, sections ``operation`` and
``on_event_sample``); this module is the one place that applies them.

- A **manual** control (a person performs it) needs one performance in each sub-period: an
  evidence version counts for exactly one sub-period, the one containing its effective end
  (the day the performance is evidenced). A version whose effective range spans more than one
  sub-period is flagged, and it still counts once. A version ending after the window counts
  for none of its periods.
- An **automatic** control (a system does it and produces reports) is covered in every
  sub-period a version's effective range overlaps: one monthly report covers each day of a
  daily backup control in that month.
- A new control's operation comes from its type (``default_by_type``); the manager can change it.
- Suggested samples: the frequency rules give the sample for a 12-month window; a shorter
  window scales it by its length (rounded up, at least 1) and it never exceeds the occurrences
  in the window (its sub-periods; continuous controls occur too often to cap). An on-event
  control's sample comes from its population size (``on_event_sample``, a convention).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
from dataclasses import dataclass
from pathlib import Path

from controls.models import (
    Audit,
    AuditStatus,
    AuditType,
    Control,
    ControlType,
    Frequency,
    FrequencyRule,
    Operation,
)
from controls.periods import Period, covered, split_window, window_months
from criteria.datafile import read_yaml

RULES_PATH = Path(__file__).resolve().parent / "data" / "frequency_rules.yaml"
PERIOD_OF_END = "period_of_end"
EVERY_OVERLAPPED = "every_overlapped_period"
# The noun for one sub-period of a frequency, as the flags say it.
PERIOD_NOUN = {
    Frequency.ANNUAL: ("year", "years"),
    Frequency.SEMI_ANNUAL: ("half-year", "half-years"),
    Frequency.QUARTERLY: ("quarter", "quarters"),
    Frequency.MONTHLY: ("month", "months"),
    Frequency.WEEKLY: ("week", "weeks"),
    Frequency.DAILY: ("day", "days"),
    Frequency.CONTINUOUS: ("month", "months"),
    Frequency.ON_EVENT: ("window", "windows"),
}


@dataclass(frozen=True)
class SampleRow:
    up_to: int | None  # populations up to this size (None: any larger one)
    sample: int | None  # a fixed sample; None with no percent: every item
    percent: int | None


@dataclass(frozen=True)
class OperationRules:
    counts: dict[str, str]
    default_by_type: dict[str, str]
    on_event_sample: tuple[SampleRow, ...]


def parse_operation_rules(path: Path, label: str) -> OperationRules:
    doc = read_yaml(path, label=label).mapping(["rules", "operation", "on_event_sample"])
    op = doc.child("operation").mapping(["counts", "default_by_type"])
    counts_doc = op.child("counts").mapping(Operation.values)
    counts = {o: counts_doc.choice(o, [PERIOD_OF_END, EVERY_OVERLAPPED]) for o in Operation.values}
    by_type_doc = op.child("default_by_type").mapping(ControlType.values)
    by_type = {t: by_type_doc.choice(t, Operation.values) for t in ControlType.values}
    rows: list[SampleRow] = []
    for item in doc.items("on_event_sample"):
        item.mapping(["up_to"], ["sample", "percent"])
        up_to = item.integer("up_to", minimum=1, maximum=1_000_000, required=False)
        if item.value.get("sample") == "all":
            sample, percent = None, None
        else:
            sample = item.integer("sample", minimum=1, maximum=1000, required=False)
            percent = item.integer("percent", minimum=1, maximum=100, required=False)
            if (sample is None) == (percent is None):
                raise item.error("give either a sample (a number or all) or a percent")
        if rows and (rows[-1].up_to is None or (up_to is not None and up_to <= rows[-1].up_to)):
            raise item.error("rows must be in ascending order of up_to, the open one last")
        rows.append(SampleRow(up_to, sample, percent))
    if rows[-1].up_to is not None:
        raise doc.error("the last row needs up_to: null (any larger population)", "on_event_sample")
    return OperationRules(counts, by_type, tuple(rows))


@functools.cache
def operation_rules() -> OperationRules:
    return parse_operation_rules(RULES_PATH, RULES_PATH.name)


def default_operation(control_type: str) -> str:
    return operation_rules().default_by_type.get(control_type, Operation.MANUAL)


def counted(
    periods: list[Period], ranges: list[tuple[dt.date, dt.date]], operation: str
) -> list[bool]:
    """For each period (ascending), whether accepted evidence counts for it."""
    if operation_rules().counts.get(operation) == EVERY_OVERLAPPED:
        return covered(periods, ranges)
    ends = sorted(end for _, end in ranges)
    out = []
    for period in periods:
        i = bisect.bisect_left(ends, period.start)
        out.append(i < len(ends) and ends[i] <= period.end)
    return out


def span_flag(
    periods: list[Period], start: dt.date, end: dt.date, operation: str, frequency: str
) -> str:
    """Why a version of a manual control counts less than its range suggests ("" when it
    counts as it looks): it spans several sub-periods, or it ends after the window."""
    if operation_rules().counts.get(operation) == EVERY_OVERLAPPED or not periods:
        return ""
    spanned = sum(1 for p in periods if p.overlaps(start, end))
    one, many = PERIOD_NOUN.get(frequency, ("period", "periods"))
    label = f"{start:%d %b %Y} – {end:%d %b %Y}"
    if end > periods[-1].end:
        return (
            f"Evidence for {label} ends after the window: a manual control's evidence counts "
            f"for the {one} of its end date, so it counts for none."
        )
    if spanned <= 1:
        return ""
    return (
        f"Evidence for {label} covers {spanned} {many}; counts for the {one} of {end:%d %b %Y} "
        f"— a {Frequency(frequency).label.lower()} control needs one performance per {one}."
    )


def span_warnings(control: Control, start: dt.date, end: dt.date) -> list[str]:
    """Warnings for a version of ``control`` dated ``start``–``end``, against each Type 2 audit
    of the organization not yet completed whose window it overlaps (shown on upload: the
    version is kept, it just counts less than its range suggests). Two queries."""
    if operation_rules().counts.get(control.operation) == EVERY_OVERLAPPED:
        return []
    rule = FrequencyRule.objects.filter(frequency=control.frequency).first()
    if rule is None:
        return []
    audits = (
        Audit.objects.for_org(control.organization_id)
        .filter(audit_type=AuditType.TYPE2, window_start__lte=end, window_end__gte=start)
        .exclude(status=AuditStatus.COMPLETED)
        .order_by("window_start")
    )
    out: list[str] = []
    for audit in audits:
        periods = split_window(
            audit.window_start, audit.window_end, rule.period_unit, rule.period_length
        )
        flag = span_flag(periods, start, end, control.operation, control.frequency)
        if flag and f"{audit.name}: {flag}" not in out:
            out.append(f"{audit.name}: {flag}")
    return out


def on_event_sample(population: int) -> int:
    """The sample for an on-event control whose window had ``population`` events."""
    if population <= 0:
        return 0
    for row in operation_rules().on_event_sample:
        if row.up_to is None or population <= row.up_to:
            if row.percent is not None:
                return min(population, math.ceil(population * row.percent / 100))
            return population if row.sample is None else min(population, row.sample)
    return population  # unreachable: the last row is open-ended


def on_event_sample_label() -> str:
    parts = []
    low = 1
    for row in operation_rules().on_event_sample:
        size = "all" if row.sample is None and row.percent is None else row.sample
        size = f"{row.percent} %" if row.percent is not None else size
        span = f"{low}–{row.up_to}" if row.up_to is not None else f"over {low - 1}"
        parts.append(f"{span}: {size}")
        low = (row.up_to or 0) + 1
    return "by events (convention): " + ", ".join(parts)


def suggested_sample(
    rule: FrequencyRule, window_start: dt.date, window_end: dt.date, occurrences: int
) -> str:
    """The sample to suggest for a Type 2 window (see the module docstring)."""
    if rule.frequency == Frequency.ON_EVENT:
        return on_event_sample_label()
    scale = min(1.0, round(window_months(window_start, window_end), 6) / 12)
    low = max(1, math.ceil(round(rule.sample_min * scale, 6)))
    high = max(1, math.ceil(round(rule.sample_max * scale, 6)))
    if rule.frequency != Frequency.CONTINUOUS:
        low, high = min(low, occurrences), min(high, occurrences)
    return str(low) if low == high else f"{low}–{high}"
