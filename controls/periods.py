"""Calendar arithmetic of Type 2 observation windows.

A window is split into the sub-periods a control's frequency implies, counted from the window
start (not the calendar): a quarterly control over 15 Feb – 14 Feb has quarters starting
15 Feb, 15 May, 15 Aug and 15 Nov. Month steps are computed from the window start each time,
so 31 Jan + 1 month is 28/29 Feb and + 2 months is 31 Mar again (no drift). All dates are
inclusive; the last period ends on the window end.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from controls.models import PeriodUnit


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


def window_months(start: dt.date, end: dt.date) -> float:
    """Length of an inclusive window in months (12 for 1 Jan – 31 Dec)."""
    whole = 0
    while add_months(start, whole + 1) <= end + dt.timedelta(days=1):
        whole += 1
    rest_start = add_months(start, whole)
    rest_days = (end - rest_start).days + 1
    month_days = (add_months(start, whole + 1) - rest_start).days
    return whole + rest_days / month_days


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
    """For each period (in order), whether any inclusive (start, end) range overlaps it.

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
