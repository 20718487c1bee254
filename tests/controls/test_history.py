"""Readiness snapshots, "what changed since last week", and the daily task that takes them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings

from controls import history
from controls.history import (
    readiness_changes,
    readiness_snapshot_take,
    readiness_snapshots_take_all,
)
from controls.models import AuditCategory, ReadinessSnapshot
from controls.readiness import audit_readiness
from controls.tasks import SnapshotsFailed, snapshot_readiness
from criteria.models import Category
from tenants.context import current_org_id
from tests.factories import ControlFactory, control_map, evidence_row

D = dt.date
pytestmark = pytest.mark.django_db
AS_OF = D(2025, 3, 31)
TODAY = D(2025, 4, 20)


def snapshots(org) -> list[ReadinessSnapshot]:
    return list(ReadinessSnapshot.objects.for_org(org).order_by("audit_id", "taken_on"))


def test_snapshot_is_one_row_per_audit_and_day(org, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    control = control_map(ControlFactory(organization=org), "CC6.1")

    first = readiness_snapshot_take(audit=audit, today=TODAY)
    assert (first.taken_on, first.score, first.met, first.partial, first.gap) == (
        TODAY,
        Decimal("1.5"),  # CC6.1 partial, 32 gaps
        0,
        1,
        32,
    )
    assert first.statuses["CC6.1"] == "partial"
    assert len(first.statuses) == 33

    evidence_row(control, D(2025, 3, 1))
    again = readiness_snapshot_take(audit=audit, today=TODAY)
    assert again.pk == first.pk
    assert [(s.taken_on, s.met, s.statuses["CC6.1"]) for s in snapshots(org)] == [(TODAY, 1, "met")]

    readiness_snapshot_take(
        audit=audit, readiness=audit_readiness(audit), today=TODAY + dt.timedelta(days=1)
    )
    assert len(snapshots(org)) == 2


def test_no_changes_without_a_snapshot_old_enough(org, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    readiness_snapshot_take(audit=audit, today=TODAY - dt.timedelta(days=6))

    assert readiness_changes(audit=audit, readiness=audit_readiness(audit), today=TODAY) is None
    assert (
        readiness_changes(audit=audit, readiness=audit_readiness(audit), days=6, today=TODAY)
        is not None
    )


def test_changes_since_the_newest_snapshot_at_least_a_week_old(
    org, make_audit, django_assert_num_queries
):
    audit = make_audit(org, as_of=AS_OF)
    fixed = control_map(ControlFactory(organization=org, code="AC-1"), "CC6.1")
    broken = control_map(ControlFactory(organization=org, code="AC-2"), "CC6.2")
    readiness_snapshot_take(audit=audit, today=TODAY - dt.timedelta(days=10))  # too old
    lost = evidence_row(broken, D(2025, 3, 1))
    readiness_snapshot_take(audit=audit, today=TODAY - dt.timedelta(days=8))  # the one to use
    evidence_row(fixed, D(2025, 3, 1))
    readiness_snapshot_take(audit=audit, today=TODAY - dt.timedelta(days=2))  # too recent

    lost.review_state = "rejected"
    lost.save()
    ControlFactory(organization=org, code="AC-3", status="in_progress")  # unmapped: no change
    readiness = audit_readiness(audit)

    with django_assert_num_queries(1):
        changes = readiness_changes(audit=audit, readiness=readiness, today=TODAY)

    assert changes.since == TODAY - dt.timedelta(days=8)
    assert [(c.ref, c.old, c.new, c.label) for c in changes.criteria] == [
        ("CC6.1", "partial", "met", "Partial → Met"),
        ("CC6.2", "met", "partial", "Met → Partial"),
    ]
    assert changes.criteria[0].title == readiness.criteria[17].criterion.title
    assert changes.score_before == changes.score_now == Decimal("4.5")  # (1 + 0.5) / 33
    assert changes.score_delta == Decimal("0.0")
    assert changes.count_deltas == {"met": 0, "partial": 0, "gap": 0}


def test_changes_in_scope_and_score(org, make_audit):
    audit = make_audit(org, as_of=AS_OF)
    availability = Category.objects.get(framework=audit.framework, key="availability")
    control = control_map(ControlFactory(organization=org), "CC6.1", "A1.1")
    readiness_snapshot_take(audit=audit, today=TODAY - dt.timedelta(days=7))
    evidence_row(control, D(2025, 3, 1))
    AuditCategory(organization=org, audit=audit, category=availability).save()

    changes = readiness_changes(audit=audit, readiness=audit_readiness(audit), today=TODAY)

    assert [(c.ref, c.old, c.new) for c in changes.criteria] == [
        ("CC6.1", "partial", "met"),
        ("A1.1", None, "met"),
        ("A1.2", None, "gap"),
        ("A1.3", None, "gap"),
    ]
    assert changes.criteria[1].label == "not in scope → Met"
    assert (changes.score_before, changes.score_now) == (Decimal("1.5"), Decimal("5.6"))
    assert changes.score_delta == Decimal("4.1")
    assert changes.count_deltas == {"met": 2, "partial": -1, "gap": 2}

    # A week later availability leaves the scope again.
    readiness_snapshot_take(audit=audit, today=TODAY)
    AuditCategory.objects.for_org(org).filter(category=availability).delete()
    later = TODAY + dt.timedelta(days=7)
    changes = readiness_changes(audit=audit, readiness=audit_readiness(audit), today=later)
    assert [(c.ref, c.old, c.new, c.label) for c in changes.criteria] == [
        ("A1.1", "met", None, "Met → not in scope"),
        ("A1.2", "gap", None, "Gap → not in scope"),
        ("A1.3", "gap", None, "Gap → not in scope"),
    ]


def test_the_daily_task_snapshots_every_open_audit_once_a_day(
    org, other_org, make_audit, monkeypatch
):
    ours = make_audit(org, as_of=AS_OF)
    theirs = make_audit(other_org, window=(D(2025, 1, 1), D(2025, 12, 31)))
    make_audit(org, as_of=D(2024, 3, 31), status="completed")
    control_map(ControlFactory(organization=other_org), "CC6.1")
    assert current_org_id() is None  # a task starts with no organization

    assert snapshot_readiness() == 2
    assert snapshot_readiness() == 2  # idempotent: the same rows are overwritten

    assert [s.audit_id for s in snapshots(org)] == [ours.pk]
    assert [(s.audit_id, s.statuses["CC6.1"]) for s in snapshots(other_org)] == [
        (theirs.pk, "partial")
    ]
    assert ReadinessSnapshot.objects.for_org(org).get().organization_id == org.pk
    assert current_org_id() is None


def test_one_failing_audit_does_not_stop_the_others(org, other_org, make_audit, monkeypatch):
    broken = make_audit(org, as_of=AS_OF)
    fine = make_audit(other_org, as_of=AS_OF)
    real = history.readiness_snapshot_take

    def flaky(*, audit, today=None, readiness=None):
        if audit.pk == broken.pk:
            raise RuntimeError("boom")
        return real(audit=audit, today=today, readiness=readiness)

    monkeypatch.setattr(history, "readiness_snapshot_take", flaky)

    run = readiness_snapshots_take_all(today=TODAY)
    assert (run.taken, run.failed) == (1, [broken.pk])
    assert [s.audit_id for s in snapshots(other_org)] == [fine.pk]
    with pytest.raises(SnapshotsFailed):
        snapshot_readiness()  # raised so that Celery retries the run


def test_the_task_is_scheduled_daily_and_safe_to_redeliver():
    assert snapshot_readiness.acks_late
    assert snapshot_readiness.time_limit and snapshot_readiness.soft_time_limit
    entry = settings.CELERY_BEAT_SCHEDULE["snapshot-readiness"]
    assert entry["task"] == snapshot_readiness.name == "controls.tasks.snapshot_readiness"
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {30}
