"""Type 2 readiness on real rows: sub-periods, upcoming periods, mid-window adoption and
the frequency rules read as data (Type 1 and scores are in test_readiness.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from controls.models import FrequencyRule, SelfAssessmentAnswer
from controls.readiness import PeriodStatus, Status, audit_readiness
from criteria.models import Criterion
from tests.factories import ControlFactory, control_map, evidence_row

D = dt.date
pytestmark = pytest.mark.django_db
AS_OF = D(2025, 3, 31)
SECURITY_CRITERIA = 33


LONG_AGO = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def mapped(org, *refs: str, **fields):
    """A control mapped to ``refs``, added before every window of these tests."""
    return control_map(ControlFactory(organization=org, created_at=LONG_AGO, **fields), *refs)


def by_ref(readiness) -> dict:
    return {r.criterion.ref: r for r in readiness.criteria}


def answer(audit, ref: str, value: str, notes: str = "") -> None:
    SelfAssessmentAnswer(
        organization_id=audit.organization_id,
        audit=audit,
        criterion=Criterion.objects.get(framework=audit.framework, ref=ref),
        answer=value,
        notes=notes,
    ).save()


# --- Type 2 ---------------------------------------------------------------------------------

WINDOW = (D(2024, 2, 15), D(2025, 2, 14))  # quarters not aligned to the calendar
AFTER = D(2025, 3, 1)


def test_type2_quarterly_control_with_three_quarters_of_four_is_partial(org, make_audit):
    audit = make_audit(org, window=WINDOW)
    control = mapped(org, "CC6.1", code="AC-1")
    evidence_row(control, D(2024, 3, 31))
    evidence_row(control, D(2024, 5, 15), D(2024, 8, 14))
    evidence_row(control, D(2025, 2, 14))  # the window's last day
    evidence_row(control, D(2024, 9, 1), state="pending")

    readiness = audit_readiness(audit, today=AFTER)
    cc61 = by_ref(readiness)["CC6.1"]
    ctl = readiness.controls[control.pk]

    assert cc61.status == Status.PARTIAL
    assert cc61.reasons == [
        "AC-1 is implemented but has no accepted evidence for 1 of 4 periods: "
        "15 Aug 2024 – 14 Nov 2024; 1 awaiting review."
    ]
    assert [s for _, s in ctl.periods] == ["covered", "covered", "missing", "covered"]
    assert [p.label for p in ctl.missing_periods] == ["15 Aug 2024 – 14 Nov 2024"]
    assert ctl.upcoming_periods == []
    assert (ctl.accepted, ctl.pending, ctl.sample) == (3, 1, "2")

    evidence_row(control, D(2024, 11, 14))  # the missing quarter's last day
    cc61 = by_ref(audit_readiness(audit, today=AFTER))["CC6.1"]
    assert cc61.status == Status.MET
    assert cc61.reasons == ["Met by AC-1 (implemented, evidence in every period)."]


def test_type2_only_overlapping_accepted_evidence_counts(org, make_audit):
    audit = make_audit(org, window=WINDOW)
    control = mapped(org, "CC6.1", frequency="annual")
    evidence_row(control, D(2024, 2, 14))  # the day before the window
    evidence_row(control, D(2025, 2, 15))  # the day after
    evidence_row(control, D(2024, 6, 1), state="rejected")

    readiness = audit_readiness(audit, today=AFTER)

    assert by_ref(readiness)["CC6.1"].status == Status.PARTIAL
    assert readiness.controls[control.pk].accepted == 0


def test_a_control_added_mid_window_gets_a_note(org, make_audit):
    audit = make_audit(org, window=(D(2024, 1, 1), D(2024, 12, 31)))
    late = control_map(
        ControlFactory(
            organization=org,
            code="AC-1",
            frequency="monthly",
            created_at=dt.datetime(2024, 6, 10, 9, tzinfo=dt.UTC),
        ),
        "CC6.1",
    )
    early = mapped(org, "CC6.2", code="AC-2")
    for month in range(6, 13):
        evidence_row(late, D(2024, month, 15))

    readiness = audit_readiness(audit, today=D(2025, 1, 10))
    late_ready = readiness.controls[late.pk]

    assert late_ready.adopted_on == D(2024, 6, 10)
    assert late_ready.note == (
        "no accepted evidence for 5 of 12 periods: 01 Jan 2024 – 31 Jan 2024, "
        "01 Feb 2024 – 29 Feb 2024, 01 Mar 2024 – 31 Mar 2024 … "
        "(adopted on 10 Jun 2024, after the window started)"
    )
    assert late_ready.sample == "2–5"
    assert by_ref(readiness)["CC6.1"].status == Status.PARTIAL
    assert readiness.controls[early.pk].adopted_on is None
    assert "adopted" not in readiness.controls[early.pk].note


def test_type2_in_progress_periods_not_ended_are_upcoming(org, make_audit):
    audit = make_audit(org, window=(D(2025, 1, 1), D(2025, 12, 31)))
    done = mapped(org, "CC6.1", code="AC-1")
    evidence_row(done, D(2025, 3, 15))
    behind = mapped(org, "CC6.2", code="AC-2")
    evidence_row(behind, D(2025, 4, 20))  # Q2 covered early, Q1 still missing

    readiness = audit_readiness(audit, today=D(2025, 5, 10))
    result = by_ref(readiness)
    done_ready, behind_ready = readiness.controls[done.pk], readiness.controls[behind.pk]

    assert [s for _, s in done_ready.periods] == [
        PeriodStatus.COVERED,
        PeriodStatus.UPCOMING,
        PeriodStatus.UPCOMING,
        PeriodStatus.UPCOMING,
    ]
    assert done_ready.missing_periods == []
    assert done_ready.periods_ended == 1
    assert result["CC6.1"].status == Status.MET
    assert result["CC6.1"].reasons == [
        "Met by AC-1 (implemented, evidence in every ended period; 3 still to come)."
    ]
    assert [s for _, s in behind_ready.periods] == ["missing", "covered", "upcoming", "upcoming"]
    assert result["CC6.2"].status == Status.PARTIAL
    assert result["CC6.2"].reasons == [
        "AC-2 is implemented but has no accepted evidence for 1 of 1 ended periods: "
        "01 Jan 2025 – 31 Mar 2025."
    ]


def test_type2_period_ending_today_is_still_upcoming(org, make_audit):
    audit = make_audit(org, window=(D(2025, 1, 1), D(2025, 12, 31)))
    control = mapped(org, "CC6.1")
    evidence_row(control, D(2025, 1, 20))  # January only
    control.frequency = "monthly"
    control.save()

    on_the_day = audit_readiness(audit, today=D(2025, 2, 28)).controls[control.pk]
    day_after = audit_readiness(audit, today=D(2025, 3, 1)).controls[control.pk]

    assert [s for _, s in on_the_day.periods[:3]] == ["covered", "upcoming", "upcoming"]
    assert on_the_day.evidence_ok
    assert [s for _, s in day_after.periods[:3]] == ["covered", "missing", "upcoming"]
    assert not day_after.evidence_ok


def test_type2_before_any_period_ends_one_accepted_version_in_the_window_is_needed(org, make_audit):
    audit = make_audit(org, window=(D(2025, 1, 1), D(2025, 12, 31)))
    started = mapped(org, "CC6.1", code="AC-1")
    evidence_row(started, D(2025, 1, 20))
    idle = mapped(org, "CC6.2", code="AC-2")
    evidence_row(idle, D(2024, 12, 20))  # before the window: does not count
    evidence_row(idle, D(2025, 1, 21), state="pending")
    annual = mapped(org, "CC6.3", code="AC-3", frequency="annual")
    evidence_row(annual, D(2025, 2, 1))

    readiness = audit_readiness(audit, today=D(2025, 2, 10))
    result = by_ref(readiness)

    assert readiness.controls[started.pk].periods_ended == 0
    assert result["CC6.1"].status == Status.MET
    assert result["CC6.1"].reasons == [
        "Met by AC-1 (implemented, evidence in the window so far; 3 periods still to come)."
    ]
    assert result["CC6.2"].status == Status.PARTIAL
    assert result["CC6.2"].reasons == [
        "AC-2 is implemented but has no accepted evidence in the window yet "
        "(the first period ends 31 Mar 2025); 1 awaiting review."
    ]
    assert readiness.controls[idle.pk].missing_periods == []
    assert result["CC6.3"].status == Status.MET
    assert result["CC6.3"].reasons == ["Met by AC-3 (implemented, evidence in every period)."]


def test_frequency_rules_are_data_the_engine_reads(org, make_audit):
    audit = make_audit(org, window=(D(2025, 1, 1), D(2025, 12, 31)))
    control = mapped(org, "CC6.1")
    assert audit_readiness(audit, today=AFTER).controls[control.pk].sample == "2"

    FrequencyRule.objects.filter(frequency="quarterly").update(
        sample_min=3, sample_max=4, period_length=6
    )
    ctl = audit_readiness(audit, today=D(2026, 1, 10)).controls[control.pk]

    assert ctl.sample == "2"  # 3–4 per 12 months, but a 6-monthly control occurs twice
    assert [p.label for p, _ in ctl.periods] == [
        "01 Jan 2025 – 30 Jun 2025",
        "01 Jul 2025 – 31 Dec 2025",
    ]
