"""Calendar arithmetic of Type 2 windows: pure functions, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from controls.models import PeriodUnit
from controls.periods import (
    Period,
    PeriodStatus,
    add_months,
    covered,
    period_statuses,
    split_window,
    window_length_label,
    window_months,
)

D = dt.date
MONTH, DAY, WINDOW = PeriodUnit.MONTH, PeriodUnit.DAY, PeriodUnit.WINDOW


def spans(periods: list[Period]) -> list[tuple[dt.date, dt.date]]:
    return [(p.start, p.end) for p in periods]


def test_quarters_follow_the_window_start_not_the_calendar():
    periods = split_window(D(2024, 2, 15), D(2025, 2, 14), MONTH, 3)
    assert spans(periods) == [
        (D(2024, 2, 15), D(2024, 5, 14)),
        (D(2024, 5, 15), D(2024, 8, 14)),
        (D(2024, 8, 15), D(2024, 11, 14)),
        (D(2024, 11, 15), D(2025, 2, 14)),
    ]
    assert periods[2].label == "15 Aug 2024 – 14 Nov 2024"


def test_month_steps_from_the_31st_clamp_without_drifting():
    start = D(2023, 1, 31)
    assert add_months(start, 1) == D(2023, 2, 28)
    assert add_months(start, 2) == D(2023, 3, 31)  # back to the 31st, not stuck on the 28th
    assert add_months(start, 3) == D(2023, 4, 30)
    assert add_months(start, 13) == D(2024, 2, 29)
    assert add_months(start, 12) == D(2024, 1, 31)

    periods = split_window(D(2024, 1, 31), D(2024, 7, 30), MONTH, 1)
    assert spans(periods) == [
        (D(2024, 1, 31), D(2024, 2, 28)),
        (D(2024, 2, 29), D(2024, 3, 30)),
        (D(2024, 3, 31), D(2024, 4, 29)),
        (D(2024, 4, 30), D(2024, 5, 30)),
        (D(2024, 5, 31), D(2024, 6, 29)),
        (D(2024, 6, 30), D(2024, 7, 30)),
    ]


def test_every_day_of_the_window_is_in_exactly_one_period():
    start, end = D(2024, 1, 31), D(2025, 1, 30)
    for unit, length in [(MONTH, 1), (MONTH, 3), (MONTH, 6), (DAY, 7), (DAY, 1)]:
        periods = split_window(start, end, unit, length)
        assert periods[0].start == start and periods[-1].end == end
        for before, after in zip(periods, periods[1:], strict=False):
            assert after.start == before.end + dt.timedelta(days=1)


def test_a_window_starting_on_a_leap_day():
    start, end = D(2024, 2, 29), D(2025, 2, 27)
    assert add_months(start, 12) == D(2025, 2, 28)
    assert window_months(start, end) == 12
    assert spans(split_window(start, end, MONTH, 3)) == [
        (D(2024, 2, 29), D(2024, 5, 28)),
        (D(2024, 5, 29), D(2024, 8, 28)),
        (D(2024, 8, 29), D(2024, 11, 28)),
        (D(2024, 11, 29), D(2025, 2, 27)),
    ]
    monthly = split_window(start, end, MONTH, 1)
    assert len(monthly) == 12
    assert (monthly[-1].start, monthly[-1].end) == (D(2025, 1, 29), D(2025, 2, 27))
    # The clamped anniversary is 28 Feb 2025, so a window ending on it is one day too long.
    assert window_length_label(start, D(2025, 2, 28)) == "12 months and 1 day"


def test_daily_periods_across_the_leap_day():
    periods = split_window(D(2024, 2, 27), D(2024, 3, 2), DAY, 1)
    assert [p.start for p in periods] == [
        D(2024, 2, 27),
        D(2024, 2, 28),
        D(2024, 2, 29),
        D(2024, 3, 1),
        D(2024, 3, 2),
    ]
    assert all(p.start == p.end for p in periods)
    assert periods[2].label == "29 Feb 2024"
    assert len(split_window(D(2024, 1, 1), D(2024, 12, 31), DAY, 1)) == 366
    assert len(split_window(D(2025, 1, 1), D(2025, 12, 31), DAY, 1)) == 365


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        ((D(2025, 3, 31), D(2025, 3, 31)), [True, False, False, False]),  # last day of Q1
        ((D(2025, 4, 1), D(2025, 4, 1)), [False, True, False, False]),  # first day of Q2
        ((D(2025, 3, 31), D(2025, 4, 1)), [True, True, False, False]),  # spans the boundary
        ((D(2024, 12, 31), D(2024, 12, 31)), [False, False, False, False]),  # day before
        ((D(2025, 12, 31), D(2026, 1, 5)), [False, False, False, True]),  # runs past the end
    ],
)
def test_evidence_on_a_period_boundary(evidence, expected):
    quarters = split_window(D(2025, 1, 1), D(2025, 12, 31), MONTH, 3)
    assert covered(quarters, [evidence]) == expected


def test_exactly_twelve_months_versus_one_day_more():
    assert window_months(D(2025, 1, 1), D(2025, 12, 31)) == 12
    assert window_months(D(2024, 2, 15), D(2025, 2, 14)) == 12
    assert window_months(D(2025, 1, 1), D(2026, 1, 1)) > 12
    assert window_length_label(D(2025, 1, 1), D(2025, 12, 31)) == "12 months"
    assert window_length_label(D(2025, 1, 1), D(2026, 1, 1)) == "12 months and 1 day"
    assert window_months(D(2025, 1, 1), D(2025, 3, 31)) == 3
    assert window_months(D(2025, 1, 1), D(2025, 3, 30)) < 3
    assert window_length_label(D(2025, 1, 1), D(2025, 3, 30)) == "2 months and 30 days"
    assert window_length_label(D(2025, 1, 1), D(2025, 1, 1)) == "1 day"


def test_weekly_periods_end_with_a_short_week():
    periods = split_window(D(2025, 1, 1), D(2025, 3, 31), DAY, 7)
    assert len(periods) == 13
    assert all((p.end - p.start).days == 6 for p in periods[:-1])
    assert (periods[-1].start, periods[-1].end) == (D(2025, 3, 26), D(2025, 3, 31))


def test_the_whole_window_is_one_period_and_bad_input_is_refused():
    assert spans(split_window(D(2025, 1, 1), D(2025, 6, 30), WINDOW, 1)) == [
        (D(2025, 1, 1), D(2025, 6, 30))
    ]
    with pytest.raises(ValueError, match="ends before it starts"):
        split_window(D(2025, 2, 1), D(2025, 1, 1), MONTH, 1)
    with pytest.raises(ValueError, match="unknown period unit"):
        split_window(D(2025, 1, 1), D(2025, 6, 30), "fortnight", 1)


def test_covered_with_overlapping_and_unsorted_ranges():
    months = split_window(D(2025, 1, 1), D(2025, 6, 30), MONTH, 1)
    ranges = [
        (D(2025, 5, 15), D(2025, 5, 20)),
        (D(2025, 1, 1), D(2025, 2, 10)),
        (D(2025, 1, 5), D(2025, 1, 7)),  # inside the one above and ending sooner
        (D(2024, 6, 1), D(2024, 12, 31)),  # before the window
        (D(2025, 5, 1), D(2025, 5, 31)),  # overlaps the May one
    ]
    assert covered(months, ranges) == [True, True, False, False, True, False]
    assert covered(months, list(reversed(ranges))) == covered(months, ranges)
    assert covered(months, []) == [False] * 6


def test_period_statuses_tell_missing_from_upcoming():
    quarters = split_window(D(2025, 1, 1), D(2025, 12, 31), MONTH, 3)
    evidence = [(D(2025, 5, 1), D(2025, 5, 1))]
    C, M, U = PeriodStatus.COVERED, PeriodStatus.MISSING, PeriodStatus.UPCOMING
    # A period ending today has not ended: its evidence can still arrive today.
    assert period_statuses(quarters, evidence, D(2025, 3, 31)) == [U, C, U, U]
    assert period_statuses(quarters, evidence, D(2025, 4, 1)) == [M, C, U, U]
    assert period_statuses(quarters, evidence, D(2026, 1, 1)) == [M, C, M, M]
