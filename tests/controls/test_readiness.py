"""The readiness engine on real rows: controls, mappings, evidence versions, answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from controls.models import Control, ControlCriterion, Deviation, SelfAssessmentAnswer
from controls.readiness import Status, audit_readiness
from criteria.models import Criterion
from evidence.models import EvidenceItem, EvidenceVersion
from tenants.models import Role
from tests.factories import (
    ControlFactory,
    bulk_evidence,
    control_map,
    evidence_row,
    failed_sample_rows,
)

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


# --- Type 1 ---------------------------------------------------------------------------------


def test_type1_met_partial_and_gap_with_their_reasons(org, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    met = mapped(org, "CC6.1", code="AC-1")
    evidence_row(met, D(2025, 1, 1), D(2025, 3, 1), valid_until=D(2025, 6, 30))
    mapped(org, "CC6.2", code="AC-2", status="in_progress")
    mapped(org, "CC6.3", code="AC-3")
    mapped(org, "CC6.4", code="AC-4", status="not_started")

    result = by_ref(audit_readiness(audit))

    assert result["CC6.1"].status == Status.MET
    assert result["CC6.1"].reasons == [
        "Met by AC-1 (implemented, evidence current on the as-of date)."
    ]
    # Adopted and in progress, but nothing in place yet: adopting is not progress.
    assert result["CC6.2"].status == Status.GAP
    assert result["CC6.2"].reasons == [
        "AC-2 is in progress; no accepted evidence valid on 31 Mar 2025."
    ]
    assert result["CC6.3"].status == Status.PARTIAL
    assert result["CC6.3"].reasons == [
        "AC-3 is implemented but has no accepted evidence valid on 31 Mar 2025."
    ]
    assert result["CC6.4"].status == Status.GAP
    assert result["CC6.4"].reasons == [
        "AC-4 is not started; no accepted evidence valid on 31 Mar 2025."
    ]
    assert result["CC6.5"].status == Status.GAP
    assert result["CC6.5"].reasons == ["No control is mapped to this criterion."]


def test_one_operating_control_is_enough_and_owners_are_listed(org, make_audit, make_member):
    audit = make_audit(org, as_of=AS_OF)
    alice = make_member(org, Role.CONTRIBUTOR, user__email="alice@example.com")
    bob = make_member(org, Role.CONTRIBUTOR, user__email="bob@example.com")
    ok = mapped(org, "CC6.1", code="AC-1", owner=bob)
    evidence_row(ok, D(2025, 3, 1))
    mapped(org, "CC6.1", code="AC-2", owner=alice)
    mapped(org, "CC6.1", code="AC-3")

    cc61 = by_ref(audit_readiness(audit))["CC6.1"]

    assert cc61.status == Status.MET
    assert cc61.reasons == ["Met by AC-1 (implemented, evidence current on the as-of date)."]
    assert [c.control.code for c in cc61.controls] == ["AC-1", "AC-2", "AC-3"]
    assert cc61.owners == ["alice@example.com", "bob@example.com"]


@pytest.mark.parametrize(
    ("start", "valid_until", "counts"),
    [
        (D(2025, 1, 1), AS_OF, True),  # valid through the as-of date
        (D(2025, 1, 1), AS_OF - dt.timedelta(days=1), False),  # expired the day before
        (AS_OF, AS_OF + dt.timedelta(days=90), True),  # demonstrates from that very day
        (AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=90), False),  # from the day after
    ],
)
def test_type1_evidence_must_be_valid_on_the_as_of_date(
    org, make_audit, start, valid_until, counts
):
    audit = make_audit(org, as_of=AS_OF)
    control = mapped(org, "CC6.1")
    evidence_row(control, start, start, valid_until=valid_until)

    readiness = audit_readiness(audit)

    assert by_ref(readiness)["CC6.1"].status == (Status.MET if counts else Status.PARTIAL)
    assert readiness.controls[control.pk].accepted == (1 if counts else 0)


def test_pending_and_rejected_evidence_do_not_count(org, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    pending = mapped(org, "CC6.1", code="AC-1")
    evidence_row(pending, D(2025, 3, 1), state="pending")
    evidence_row(pending, D(2025, 3, 2), state="pending")
    rejected = mapped(org, "CC6.2", code="AC-2")
    evidence_row(rejected, D(2025, 3, 1), state="rejected")

    readiness = audit_readiness(audit)
    result = by_ref(readiness)

    assert result["CC6.1"].status == Status.PARTIAL
    assert result["CC6.1"].reasons == [
        "AC-1 is implemented but has no accepted evidence valid on 31 Mar 2025 (2 awaiting review)."
    ]
    assert readiness.controls[pending.pk].pending == 2
    assert result["CC6.2"].status == Status.PARTIAL
    assert result["CC6.2"].reasons == [
        "AC-2 is implemented but has no accepted evidence valid on 31 Mar 2025."
    ]


def test_removed_evidence_items_do_not_count(org, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    window = make_audit(org, window=(D(2024, 1, 1), D(2024, 12, 31)))
    control = mapped(org, "CC6.1", frequency="annual")
    version = evidence_row(control, D(2024, 6, 1), valid_until=D(2025, 6, 1))
    assert by_ref(audit_readiness(audit))["CC6.1"].status == Status.MET
    assert by_ref(audit_readiness(window, today=D(2025, 1, 15)))["CC6.1"].status == Status.MET

    EvidenceItem.objects.for_org(org).filter(pk=version.item_id).update(
        removed_at=timezone.now(), removal_reason="uploaded to the wrong control"
    )

    assert by_ref(audit_readiness(audit))["CC6.1"].status == Status.PARTIAL
    assert by_ref(audit_readiness(window, today=D(2025, 1, 15)))["CC6.1"].status == Status.PARTIAL


def test_not_applicable_controls_are_skipped(org, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    na = ControlFactory(
        organization=org,
        code="AC-9",
        status="not_applicable",
        na_justification="No on-premises hardware.",
    )
    evidence_row(na, D(2025, 3, 1))  # evidence on an NA control makes it count no more
    control_map(na, "CC6.1", "CC6.4")
    working = mapped(org, "CC6.1", code="AC-1")
    evidence_row(working, D(2025, 3, 1))
    mapped(org, "CC6.1", code="AC-2", status="in_progress")

    result = by_ref(audit_readiness(audit))

    assert result["CC6.1"].status == Status.MET
    assert result["CC6.1"].reasons == [
        "Met by AC-1 (implemented, evidence current on the as-of date)."
    ]
    assert result["CC6.4"].status == Status.GAP
    assert result["CC6.4"].reasons == [
        "Every mapped control is marked not applicable; map a control that applies."
    ]


def test_a_criterion_answered_not_applicable_is_left_out_of_the_score(org, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    control = mapped(org, "CC6.1")
    evidence_row(control, D(2025, 3, 1))
    before = audit_readiness(audit)
    answer(audit, "CC6.4", "not_applicable", "All data centres are run by our cloud provider.")
    answer(audit, "CC6.5", "not_in_place")  # other answers change nothing

    after = audit_readiness(audit)
    cc64 = by_ref(after)["CC6.4"]

    assert cc64.status == Status.NOT_APPLICABLE
    assert cc64.reasons == [
        "Marked not applicable in the self-assessment: "
        "All data centres are run by our cloud provider."
    ]
    assert cc64.answer.notes.startswith("All data centres")
    assert by_ref(after)["CC6.5"].status == Status.GAP
    assert before.counts == {"met": 1, "partial": 0, "gap": 32, "not_applicable": 0}
    assert after.counts == {"met": 1, "partial": 0, "gap": 31, "not_applicable": 1}
    assert before.score == Decimal("3.0")  # 1 / 33
    assert after.score == Decimal("3.1")  # 1 / 32
    assert after.categories[0].total == 32


# --- Scores ---------------------------------------------------------------------------------


def test_scores_per_category_and_overall(org, make_audit):
    audit = make_audit(org, as_of=AS_OF, categories=("availability",))
    for code, refs, status, evidence in [
        ("AC-1", ("CC6.1", "A1.1"), "implemented", True),
        ("AC-2", ("CC6.2", "A1.2"), "implemented", False),  # in place, no evidence: partial
    ]:
        control = mapped(org, *refs, code=code, status=status)
        if evidence:
            evidence_row(control, D(2025, 3, 1))
    answer(audit, "CC1.1", "not_applicable", "We have no board; see the scoping memo.")

    readiness = audit_readiness(audit)
    security, availability = readiness.categories

    assert (security.key, security.name) == ("security", "Security")
    assert security.counts == {"met": 1, "partial": 1, "gap": 30, "not_applicable": 1}
    assert security.total == 32
    assert security.score == Decimal("4.7")  # 1.5 / 32 = 4.6875
    assert availability.key == "availability"
    assert availability.counts == {"met": 1, "partial": 1, "gap": 1, "not_applicable": 0}
    assert availability.score == Decimal("50.0")
    assert readiness.counts == {"met": 2, "partial": 2, "gap": 31, "not_applicable": 1}
    assert readiness.score == Decimal("8.6")  # 3 / 35 = 8.571
    assert len(readiness.criteria) == SECURITY_CRITERIA + 3
    assert [c.criterion.ref for c in readiness.gaps][:2] == ["CC1.2", "CC1.3"]
    assert {c.status for c in readiness.gaps} == {Status.GAP, Status.PARTIAL}


def test_controls_mapped_only_outside_the_scope_are_not_evaluated(org, make_audit):
    audit = make_audit(org, as_of=AS_OF)  # Security only
    outside = mapped(org, "A1.1")

    readiness = audit_readiness(audit)

    assert outside.pk not in readiness.controls
    assert "A1.1" not in by_ref(readiness)
    assert readiness.score == Decimal("0.0")


# --- Queries and isolation ------------------------------------------------------------------


def _build(org, make_member, count: int, first: int, audit=None) -> None:
    owner = make_member(org, Role.CONTRIBUTOR)
    refs = list(
        Criterion.objects.filter(category__key="security")
        .order_by("position")
        .values_list("ref", flat=True)
    )
    controls = []
    for i in range(first, first + count):
        control = ControlFactory(
            organization=org,
            code=f"Q-{i:03d}",
            owner=owner if i % 2 else None,
            frequency=["monthly", "quarterly", "weekly", "annual"][i % 4],
            status=["implemented", "in_progress"][i % 7 == 0],
        )
        control_map(control, refs[i % len(refs)], refs[(i * 7) % len(refs)])
        controls.append(control)
    bulk_evidence(org, controls, 20, D(2024, 1, 3))
    if audit is not None and audit.is_type2:
        failed_sample_rows(audit, controls, D(2024, 10, 15))  # answered by the deviation below
        failed_sample_rows(audit, controls[:1], D(2024, 3, 2), per_control=1, version=2)
    Deviation.objects.bulk_create(
        Deviation(
            organization=org,
            control=c,
            period_start=D(2024, 10, 1),
            period_end=D(2024, 10, 31),
            what_happened="Export not run",
            cause="Job disabled",
            remediation="Re-enabled",
            recorded_by=owner,
        )
        for c in controls
    )


@pytest.mark.parametrize("type2", [False, True], ids=["type1", "type2"])
def test_readiness_takes_the_same_queries_for_5_and_60_controls(
    org, make_audit, make_member, django_assert_num_queries, type2
):
    audit = (
        make_audit(org, window=(D(2024, 1, 1), D(2024, 12, 31)), categories=("availability",))
        if type2
        else make_audit(org, as_of=D(2024, 6, 30), categories=("availability",))
    )

    def compute_and_read():
        readiness = audit_readiness(audit, today=D(2025, 1, 10))
        # Touch everything a page shows: owners, categories, notes, periods.
        for r in readiness.criteria:
            r.owners, r.criterion.category.name, r.reasons  # noqa: B018
            for c in r.controls:
                c.control.get_status_display(), c.note, c.periods  # noqa: B018
        for e in readiness.exceptions:
            e.owner, e.detail, e.period.label, e.deviation, e.item_id  # noqa: B018
        return readiness

    _build(org, make_member, 5, first=1, audit=audit)
    # scope categories, criteria with categories, mappings with controls/owners/users,
    # frequency rules, evidence grouped per control (and range), self-assessment answers;
    # Type 2: deviations recorded in the window (with who recorded them), and the items
    # failed in sample testing (the exception provider registered by reports)
    queries = 8 if type2 else 6
    with django_assert_num_queries(queries):
        small = compute_and_read()
    _build(org, make_member, 55, first=6, audit=audit)
    with django_assert_num_queries(queries):
        big = compute_and_read()
    if type2:  # two failed items a control, plus one in the first control of each build
        failed = [e for e in big.exceptions if e.kind == "failed"]
        assert len(failed) == 2 * 60 + 2

    assert len(small.controls) == 5 and len(big.controls) == 60
    assert EvidenceVersion.objects.for_org(org).count() == 60 * 20
    assert sum(c.accepted for c in big.controls.values()) > 0
    if type2:  # the exceptions list grows with the data, the query count does not
        assert 0 < len(small.exceptions) < len(big.exceptions)


def test_another_organizations_rows_never_change_the_result(
    org, other_org, make_audit, make_member
):
    def build(organization):
        audit = make_audit(organization, as_of=AS_OF)
        control = mapped(organization, "CC6.1", code="AC-1")
        evidence_row(control, D(2025, 3, 1))
        mapped(organization, "CC6.2", code="AC-2")
        return audit, control

    def summary(readiness):
        return (
            readiness.score,
            readiness.counts,
            [(r.criterion.ref, r.status, r.reasons, r.owners) for r in readiness.criteria],
            sorted(c.control.code for c in readiness.controls.values()),
        )

    audit, _ = build(org)
    alone = summary(audit_readiness(audit))

    # The same codes, mappings and evidence in another organization, plus more.
    other_audit, _ = build(other_org)
    their_ac2 = Control.objects.for_org(other_org).get(code="AC-2")
    evidence_row(their_ac2, D(2025, 3, 1))
    answer(other_audit, "CC6.3", "not_applicable", "Not for them.")
    stranger = mapped(other_org, "CC6.4", code="AC-9", owner=make_member(other_org))
    evidence_row(stranger, D(2025, 3, 1))
    assert ControlCriterion.objects.for_org(other_org).count() == 3

    assert summary(audit_readiness(audit)) == alone
    assert by_ref(audit_readiness(audit))["CC6.2"].status == Status.PARTIAL
    assert by_ref(audit_readiness(other_audit))["CC6.2"].status == Status.MET


def test_files_waiting_for_the_malware_scan_or_quarantined_do_not_count(org, manager, catalog):
    import datetime as dt

    from controls.audits import audit_save
    from evidence.models import EvidenceVersion

    audit = audit_save(
        membership=manager, name="Scan", audit_type="type1", as_of_date=dt.date(2026, 6, 30)
    )
    control = control_map(ControlFactory(organization=org, owner=manager), "CC6.1")
    version = evidence_row(control, dt.date(2026, 6, 1), valid_until=dt.date(2026, 12, 31))
    for state, counted in (("pending", False), ("infected", False), ("clean", True)):
        EvidenceVersion.objects.for_org(org).filter(pk=version.pk).update(scan_state=state)
        rows = {r.criterion.ref: r for r in audit_readiness(audit).criteria}
        assert (rows["CC6.1"].status == "met") is counted, state
