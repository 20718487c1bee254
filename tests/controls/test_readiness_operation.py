"""Type 2 as an auditor tests it: one performance per period for manual controls, overlap for
automatic ones, exceptions visible at criterion level, an honest score and samples that fit
the window (the engine's basics are in test_readiness_type2.py)."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from controls.models import Control, FrequencyRule
from controls.operation import on_event_sample, suggested_sample
from controls.readiness import ExceptionKind, Status, audit_readiness
from controls.services import control_create, control_update
from tenants import rls
from tests.factories import ControlFactory, control_map, evidence_row

D = dt.date
pytestmark = pytest.mark.django_db
LONG_AGO = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
WINDOW = (D(2025, 2, 15), D(2026, 2, 14))
AFTER = D(2026, 3, 1)


def mapped(org, *refs: str, **fields):
    return control_map(ControlFactory(organization=org, created_at=LONG_AGO, **fields), *refs)


def by_ref(readiness) -> dict:
    return {r.criterion.ref: r for r in readiness.criteria}


def statuses(ctl) -> list[str]:
    return [str(s) for _, s in ctl.periods]


def test_a_year_long_version_counts_for_one_quarter_of_a_manual_control(org, make_audit):
    audit = make_audit(org, window=WINDOW)
    control = mapped(org, "CC6.2", code="UAR-1", operation="manual")
    evidence_row(control, D(2025, 2, 15), D(2026, 2, 14))

    readiness = audit_readiness(audit, today=AFTER)
    ctl = readiness.controls[control.pk]

    assert statuses(ctl) == ["missing", "missing", "missing", "covered"]
    assert ctl.flags == [
        "Evidence for 15 Feb 2025 – 14 Feb 2026 covers 4 quarters; counts for the quarter of "
        "14 Feb 2026 — a quarterly control needs one performance per quarter."
    ]
    assert by_ref(readiness)["CC6.2"].status == Status.PARTIAL
    assert [(e.control.code, e.period.label, e.kind) for e in readiness.exceptions] == [
        ("UAR-1", "15 Feb 2025 – 14 May 2025", ExceptionKind.MISSING),
        ("UAR-1", "15 May 2025 – 14 Aug 2025", ExceptionKind.MISSING),
        ("UAR-1", "15 Aug 2025 – 14 Nov 2025", ExceptionKind.MISSING),
    ]
    assert readiness.periods_evidenced == (1, 4)

    # The same version on an automatic control covers every quarter it overlaps.
    control.operation = "automatic"
    control.save()
    ctl = audit_readiness(audit, today=AFTER).controls[control.pk]
    assert statuses(ctl) == ["covered"] * 4 and ctl.flags == []


def test_short_versions_straddling_boundaries_count_once_for_the_period_of_their_end(
    org, make_audit
):
    audit = make_audit(org, window=(D(2025, 1, 1), D(2025, 12, 31)))
    manual = mapped(org, "CC6.1", code="M-1", operation="manual")
    automatic = mapped(org, "CC6.2", code="A-1", operation="automatic")
    for control in (manual, automatic):
        evidence_row(control, D(2025, 3, 25), D(2025, 4, 5))  # ends in Q2
        evidence_row(control, D(2025, 6, 28), D(2025, 7, 2))  # ends in Q3

    readiness = audit_readiness(audit, today=D(2026, 1, 10))
    m, a = readiness.controls[manual.pk], readiness.controls[automatic.pk]

    assert statuses(m) == ["missing", "covered", "covered", "missing"]
    assert m.flags == [
        "Evidence for 25 Mar 2025 – 05 Apr 2025 covers 2 quarters; counts for the quarter of "
        "05 Apr 2025 — a quarterly control needs one performance per quarter.",
        "Evidence for 28 Jun 2025 – 02 Jul 2025 covers 2 quarters; counts for the quarter of "
        "02 Jul 2025 — a quarterly control needs one performance per quarter.",
    ]
    assert statuses(a) == ["covered", "covered", "covered", "missing"] and a.flags == []


def test_an_automatic_daily_control_is_covered_by_one_monthly_report(org, make_audit):
    audit = make_audit(org, window=(D(2025, 1, 1), D(2025, 3, 31)))
    backups = mapped(
        org,
        "A1.2",
        "CC7.1",
        code="BCK-1",
        frequency="daily",
        control_type="technical",
        operation="automatic",
    )
    evidence_row(backups, D(2025, 1, 1), D(2025, 1, 31))  # January's backup report

    ctl = audit_readiness(audit, today=D(2025, 4, 10)).controls[backups.pk]

    assert len(ctl.periods) == 90
    assert statuses(ctl)[:31] == ["covered"] * 31
    assert set(statuses(ctl)[31:]) == {"missing"}
    assert ctl.flags == []
    assert len(ctl.exceptions) == 59


def test_a_met_criterion_lists_another_controls_exception(org, make_audit, make_member):
    audit = make_audit(org, window=(D(2025, 2, 15), D(2026, 2, 14)))
    owner = make_member(org)
    ok = mapped(org, "CC6.1", code="PRB-OK")
    key = mapped(org, "CC6.1", code="PRB-KEY", owner=owner)
    for quarter_end in (D(2025, 5, 14), D(2025, 8, 14), D(2025, 11, 14), D(2026, 2, 14)):
        evidence_row(ok, quarter_end)
        if quarter_end != D(2025, 11, 14):
            evidence_row(key, quarter_end)

    readiness = audit_readiness(audit, today=AFTER)
    cc61 = by_ref(readiness)["CC6.1"]

    assert cc61.status == Status.MET
    assert cc61.reasons == [
        "Met by PRB-OK (implemented, evidence in every period).",
        "Exception: PRB-KEY has no evidence for 15 Aug 2025 – 14 Nov 2025.",
    ]
    (exception,) = readiness.exceptions
    assert (exception.control.code, exception.period.label, exception.owner) == (
        "PRB-KEY",
        "15 Aug 2025 – 14 Nov 2025",
        owner.user.email,
    )


def test_adopted_controls_without_evidence_score_zero(org, make_audit):
    audit = make_audit(org, window=(D(2027, 1, 1), D(2027, 12, 31)))  # not started yet
    refs = ["CC1.1", "CC2.1", "CC3.1", "CC5.1", "CC6.1", "CC6.2", "CC7.1", "CC8.1", "CC9.1"]
    for i in range(60):
        mapped(
            org,
            refs[i % len(refs)],
            code=f"C-{i:02}",
            status="in_progress" if i % 2 else "not_started",
        )

    readiness = audit_readiness(audit, today=D(2026, 12, 6))

    assert readiness.score == Decimal("0.0")
    assert readiness.counts["partial"] == 0 and readiness.counts["met"] == 0
    assert readiness.controls_implemented == (0, 60)
    assert readiness.periods_evidenced == (0, 0)
    assert readiness.exceptions == []

    Control.objects.for_org(org).filter(code="C-00").update(status="implemented")
    readiness = audit_readiness(audit, today=D(2026, 12, 6))
    assert readiness.counts["partial"] == 1 and readiness.controls_implemented == (1, 60)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (
            (D(2025, 1, 1), D(2025, 3, 31)),
            {"quarterly": "1", "monthly": "1–2", "daily": "5–10", "annual": "1"},
        ),
        (
            (D(2025, 1, 1), D(2025, 6, 30)),
            {"quarterly": "1", "monthly": "1–3", "daily": "10–20", "annual": "1"},
        ),
        (
            (D(2025, 1, 1), D(2025, 12, 31)),
            {"quarterly": "2", "monthly": "2–5", "daily": "20–40", "annual": "1"},
        ),
    ],
)
def test_sample_sizes_scale_with_the_window_and_never_exceed_the_occurrences(
    org, make_audit, catalog, window, expected
):
    audit = make_audit(org, window=window)
    controls = {f: mapped(org, "CC6.1", code=f"S-{f}", frequency=f) for f in expected}

    readiness = audit_readiness(audit, today=D(2026, 1, 10))

    assert {f: readiness.controls[c.pk].sample for f, c in controls.items()} == expected


def test_a_short_window_caps_the_sample_at_its_occurrences(catalog):
    rule = FrequencyRule.objects.get(frequency="quarterly")
    rule.sample_min = rule.sample_max = 4
    # Four quarters' worth of sample, but a 3-month window has one quarter.
    assert suggested_sample(rule, D(2025, 1, 1), D(2025, 3, 31), 1) == "1"
    assert suggested_sample(rule, D(2025, 1, 1), D(2025, 12, 31), 4) == "4"


def test_on_event_samples_come_from_the_population_by_convention(org, make_audit):
    assert [on_event_sample(n) for n in (0, 3, 5, 6, 50, 51, 120, 250, 251, 5000)] == [
        0,
        3,
        5,
        5,
        5,
        6,
        12,
        25,
        25,
        25,
    ]
    audit = make_audit(org, window=(D(2025, 1, 1), D(2025, 12, 31)))
    control = mapped(org, "CC8.1", frequency="on_event")
    sample = audit_readiness(audit, today=D(2026, 1, 10)).controls[control.pk].sample
    assert sample == "by events (convention): 1–5: all, 6–50: 5, 51–250: 10 %, over 250: 25"


def test_operation_defaults_from_the_type_and_the_manager_can_change_it(manager, catalog):
    technical = control_create(
        membership=manager,
        code="BCK-1",
        title="Backups",
        control_type="technical",
        frequency="daily",
    )
    procedural = control_create(
        membership=manager,
        code="UAR-1",
        title="Access review",
        control_type="procedural",
        frequency="quarterly",
    )
    assert (technical.operation, procedural.operation) == ("automatic", "manual")

    control_update(membership=manager, control=technical, operation="manual")
    technical.refresh_from_db()
    assert technical.operation == "manual"


def test_the_migration_backfills_the_operation_from_the_type(org, catalog):
    technical = ControlFactory(organization=org, control_type="technical", operation="manual")
    policy = ControlFactory(organization=org, control_type="policy", operation="manual")
    migration = importlib.import_module("controls.migrations.0003_control_operation")
    state = MigrationExecutor(connection).loader.project_state(
        ("controls", "0003_control_operation")
    )

    with rls.system("test: migrations run as a role that sees every organization"):
        migration.backfill(state.apps, SimpleNamespace(connection=connection))

    technical.refresh_from_db()
    policy.refresh_from_db()
    assert (technical.operation, policy.operation) == ("automatic", "manual")
