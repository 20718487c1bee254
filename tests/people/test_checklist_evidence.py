"""Checklist items as evidence (issue 17's "Done when"), on PostgreSQL: a leaver's item done
late is an exception for its control in the Type 2 period of its due date, on time it is
not, and the daily sweep records items still open after their due date once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from controls.models import Audit, AuditCategory, AuditType
from controls.periods import PeriodStatus
from controls.readiness import audit_readiness
from controls.readiness_types import ExceptionKind
from criteria.models import Category
from evidence.models import EvidenceVersion
from people import services
from people.checklist_items import checklist_item_done
from people.checklist_rules import due_date
from people.models_checklists import Checklist, ChecklistItem
from people.tasks import overdue_checklists_sweep
from soc2app.schedule import beat_schedule
from tests.factories import ControlFactory, control_map

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TODAY = timezone.localdate()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def type2_audit(org, catalog, start: dt.date, end: dt.date) -> Audit:
    """A Type 2 audit of Security over ``start``..``end``, written directly."""
    audit = Audit(
        organization=org,
        framework=catalog,
        name="Type 2",
        audit_type=AuditType.TYPE2,
        window_start=start,
        window_end=end,
        status="readiness",
    )
    audit.save()
    for category in Category.objects.filter(framework=catalog, always_in_scope=True):
        AuditCategory(organization=org, audit=audit, category=category).save()
    return audit


@pytest.fixture
def world(org, manager, contributor, catalog, add):
    """IAM-05 (monthly, owned by the contributor), a Type 2 window of the three last whole
    months, and a leaver whose last day is in its second month (a Wednesday)."""
    first = month_start(month_start(TODAY) - dt.timedelta(days=70))
    end = month_start(TODAY) - dt.timedelta(days=1)
    control = control_map(
        ControlFactory(
            organization=org,
            owner=contributor,
            code="IAM-05",
            frequency="monthly",
            created_at=timezone.now() - dt.timedelta(days=400),
        ),
        "CC6.2",
    )
    middle = month_start(first + dt.timedelta(days=40))
    last_day = middle + dt.timedelta(days=(2 - middle.weekday()) % 7 + 7)  # a Wednesday
    person = add("Ada Lovelace", start_date=dt.date(2024, 1, 8))
    services.person_end(membership=manager, person=person, end_date=last_day)
    item = ChecklistItem.objects.for_org(org).get(title="Accounts revoked")
    audit = type2_audit(org, catalog, first, end)
    return {"control": control, "item": item, "audit": audit, "last_day": last_day}


def test_a_late_item_is_an_exception_in_the_period_of_its_due_date(world, contributor, org):
    item, control = world["item"], world["control"]
    assert (
        item.due_date == due_date(world["last_day"], 1, True) == world["last_day"] + dt.timedelta(1)
    )
    done = item.due_date + dt.timedelta(days=2)
    checklist_item_done(
        membership=contributor,
        item=item,
        done_on=done,
        evidence_file=SimpleUploadedFile("okta.txt", b"user disabled\n"),
    )
    version = EvidenceVersion.objects.for_org(org).get(item__system_key="checklist:offboarding")
    assert version.review_state == "accepted"
    assert (version.effective_start, version.effective_end) == (item.due_date, item.due_date)
    assert version.failure == (
        f"Offboarding of Ada Lovelace: 'Accounts revoked' done {done.isoformat()}, "
        f"due {item.due_date.isoformat()}"
    )
    assert version.data["late"] is True and version.data["person"] == "Ada Lovelace"

    readiness = audit_readiness(world["audit"])
    statuses = readiness.controls[control.pk].periods
    due_period = next(p for p, _ in statuses if p.start <= item.due_date <= p.end)
    assert dict(statuses)[due_period] == PeriodStatus.FAILED
    [exception] = [
        e for e in readiness.exceptions if e.control == control and e.period == due_period
    ]
    assert exception.kind == ExceptionKind.TEST_FAILED
    assert "'Accounts revoked' done" in exception.detail


def test_an_item_done_on_time_is_no_exception(world, manager, org):
    item, control = world["item"], world["control"]
    checklist_item_done(
        membership=manager,
        item=item,
        done_on=item.due_date,
        evidence_file=SimpleUploadedFile("okta.txt", b"user disabled\n"),
    )
    version = EvidenceVersion.objects.for_org(org).get(item__system_key="checklist:offboarding")
    assert version.failure == "" and version.effective_end == item.due_date
    readiness = audit_readiness(world["audit"])
    assert not [e for e in readiness.exceptions if e.kind == ExceptionKind.TEST_FAILED]
    statuses = dict(readiness.controls[control.pk].periods)
    assert PeriodStatus.FAILED not in statuses.values()
    due_period = next(p for p in statuses if p.start <= item.due_date <= p.end)
    assert statuses[due_period] == PeriodStatus.COVERED


def test_the_daily_sweep_records_open_items_past_due_once(world, org):
    item, control = world["item"], world["control"]
    checklist = Checklist.objects.for_org(org).get(pk=item.checklist_id)
    open_items = ChecklistItem.objects.for_org(org).filter(checklist=checklist)
    late = [i for i in open_items if i.due_date < TODAY]
    assert overdue_checklists_sweep(today=item.due_date) == {}  # due today: not late yet
    assert overdue_checklists_sweep() == {org.slug: len(late)}
    assert overdue_checklists_sweep() == {}  # once
    assert not open_items.filter(overdue_recorded_at__isnull=True, due_date__lt=TODAY).exists()
    [version] = EvidenceVersion.objects.for_org(org).filter(item__control=control)
    assert version.failure == (
        f"Offboarding of Ada Lovelace: 'Accounts revoked' still open, due "
        f"{item.due_date.isoformat()}"
    )
    readiness = audit_readiness(world["audit"])
    assert any(
        e.control == control and e.kind == ExceptionKind.TEST_FAILED for e in readiness.exceptions
    )


def test_the_sweep_runs_daily_before_the_freshness_check():
    entry = beat_schedule(evidence_check_hour=6)["checklist-overdue-items"]
    assert entry["task"] == "people.sweep_overdue_checklist_items"
    assert entry["schedule"].hour == {5} and entry["schedule"].minute == {40}
