"""Calendar arithmetic of Type 2 observation windows.

A window is split into the sub-periods a control's frequency implies, counted from the window
start (not the calendar): a quarterly control over 15 Feb – 14 Feb has quarters starting
15 Feb, 15 May, 15 Aug and 15 Nov. Month steps are computed from the window start each time,
so 31 Jan + 1 month is 28/29 Feb and + 2 months is 31 Mar again (no drift). All dates are
inclusive; the last period ends on the window end (so it may be shorter, like the last week
of a weekly control).

For an automatic control, evidence covers every period its inclusive effective range
overlaps: evidence dated the last day of a quarter covers that quarter only, evidence dated the
first day of the next covers the next one only, and evidence for 31 Mar – 1 Apr covers both.
A manual control's evidence counts only for the period of its end (``controls.operation``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from controls.models import PeriodUnit


class PeriodStatus(StrEnum):
    """Where a sub-period of a Type 2 window stands (see ``controls.readiness``)."""

    COVERED = "covered"  # accepted evidence overlaps it
    MISSING = "missing"  # it has ended with no accepted evidence
    UPCOMING = "upcoming"  # no accepted evidence yet, but it has not ended
    # System-generated evidence in it reports a failure (an automated test failed): an
    # exception, not covered, whatever else covers it.
    FAILED = "failed"


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        return start <= self.end and end >= self.start

    @property
    def label(self) -> str:
        if self.start == self.end:
            return f"{self.start:%d %b %Y}"
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _whole_months(start: dt.date, end: dt.date) -> int:
    """How many whole months the inclusive window [start, end] spans."""
    whole = 0
    while add_months(start, whole + 1) <= end + dt.timedelta(days=1):
        whole += 1
    return whole


def window_months(start: dt.date, end: dt.date) -> float:
    """Length of an inclusive window in months (12 for 1 Jan – 31 Dec)."""
    whole = _whole_months(start, end)
    rest_start = add_months(start, whole)
    rest_days = (end - rest_start).days + 1
    month_days = (add_months(start, whole + 1) - rest_start).days
    return whole + rest_days / month_days


def window_length_label(start: dt.date, end: dt.date) -> str:
    """An inclusive window's length in words: "12 months", "12 months and 1 day"."""
    whole = _whole_months(start, end)
    days = (end - add_months(start, whole)).days + 1
    parts = []
    if whole:
        parts.append(f"{whole} month{'s' if whole != 1 else ''}")
    if days or not whole:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    return " and ".join(parts)


def split_window(start: dt.date, end: dt.date, unit: str, length: int) -> list[Period]:
    """The sub-periods of the inclusive window [start, end] for a rule's period."""
    if end < start:
        raise ValueError("the window ends before it starts")
    if unit == PeriodUnit.WINDOW:
        return [Period(start, end)]
    periods: list[Period] = []
    index = 0
    while True:
        if unit == PeriodUnit.MONTH:
            p_start, next_start = (
                add_months(start, index * length),
                add_months(start, (index + 1) * length),
            )
        elif unit == PeriodUnit.DAY:
            p_start = start + dt.timedelta(days=index * length)
            next_start = p_start + dt.timedelta(days=length)
        else:
            raise ValueError(f"unknown period unit {unit!r}")
        if p_start > end:
            return periods
        periods.append(Period(p_start, min(next_start - dt.timedelta(days=1), end)))
        index += 1


def covered(periods: list[Period], ranges: list[tuple[dt.date, dt.date]]) -> list[bool]:
    """For each period (in ascending order, as ``split_window`` returns them), whether any
    inclusive (start, end) range overlaps it; ``ranges`` may overlap and come in any order.

    One sweep: ranges are taken in order of start; a period is covered when the furthest end
    among the ranges that start before the period ends reaches into the period.
    """
    ordered = sorted(ranges)
    result: list[bool] = []
    furthest: dt.date | None = None
    j = 0
    for period in periods:
        while j < len(ordered) and ordered[j][0] <= period.end:
            if furthest is None or ordered[j][1] > furthest:
                furthest = ordered[j][1]
            j += 1
        result.append(furthest is not None and furthest >= period.start)
    return result


def period_statuses(
    periods: list[Period], ranges: list[tuple[dt.date, dt.date]], today: dt.date
) -> list[PeriodStatus]:
    """Covered, missing or upcoming for each period, counting every overlapped period."""
    return statuses_of(periods, covered(periods, ranges), today)


def statuses_of(periods: list[Period], counted: list[bool], today: dt.date) -> list[PeriodStatus]:
    """Covered, missing or upcoming for each period, given whether evidence counts for it. A
    period has ended when its last day is before ``today``: evidence for a period that ends
    today can still arrive today."""
    return [
        PeriodStatus.COVERED
        if ok
        else (PeriodStatus.UPCOMING if period.end >= today else PeriodStatus.MISSING)
        for period, ok in zip(periods, counted, strict=True)
    ]
