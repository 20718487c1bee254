"""Ingesting pushed results: runs, results and the findings lifecycle."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controls.services import control_update
from monitoring import selectors, services
from monitoring.findings import due_days
from monitoring.models import Check, CheckResult, Finding, FindingState, RunStatus
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants.context import org_scope
from tenants.models import ActivityEntry, Role
from tests.factories import ControlFactory
from tests.monitoring.conftest import push

pytestmark = pytest.mark.django_db


def test_a_failure_opens_a_finding_owned_by_the_controls_owner_due_by_severity(
    org, manager, connection, control, contributor
):
    summary = push(manager, connection, ("bucket-a", "fail"), ("bucket-b", "pass"))

    run = summary.run
    assert (run.status, run.passed, run.failed, run.errors) == (RunStatus.SUCCEEDED, 1, 1, 0)
    finding = Finding.objects.for_org(org).get()
    assert finding.resource_id == "bucket-a"
    assert finding.owner == contributor
    assert finding.severity == "high"
    assert finding.due_date == timezone.localdate() + dt.timedelta(days=due_days()["high"])
    assert due_days() == {"critical": 7, "high": 30, "medium": 90, "low": 180}
    check = Check.objects.for_org(org).get()
    assert check.failing
    assert selectors.check_controls(check) == [control]
    assert CheckResult.objects.for_org(org).count() == 2


def test_fail_keeps_pass_closes_and_a_new_failure_is_a_regression(
    org, manager, connection, control
):
    push(manager, connection, ("bucket-a", "fail"))
    push(manager, connection, ("bucket-a", "fail"))  # still failing: the same finding
    assert Finding.objects.for_org(org).count() == 1

    push(manager, connection, ("bucket-a", "error"))  # could not tell: nothing changes
    assert Finding.objects.for_org(org).get().state == FindingState.OPEN

    summary = push(manager, connection, ("bucket-a", "pass"))
    assert summary.closed == 1
    first = Finding.objects.for_org(org).get()
    assert first.state == FindingState.CLOSED and first.closed_at is not None
    assert not Check.objects.for_org(org).get().failing

    summary = push(manager, connection, ("bucket-a", "fail"))
    assert (summary.opened, summary.regressions) == (1, 1)
    again = Finding.objects.for_org(org).filter(state=FindingState.OPEN).get()
    assert again.pk != first.pk and again.regression and not first.regression


def test_explicit_control_codes_come_first_for_the_owner(
    org, manager, connection, control, make_member
):
    from tests.factories import ControlFactory

    other_owner = make_member(org, Role.CONTRIBUTOR)
    ControlFactory(organization=org, owner=other_owner, code="CM-01")
    push(manager, connection, ("repo", "fail"), controls=["CM-01"])
    assert Finding.objects.for_org(org).get().owner == other_owner


def test_the_push_is_logged_without_details(org, manager, connection, control):
    push(manager, connection, ("bucket-a", "fail"))
    entry = ActivityEntry.objects.for_org(org).filter(action="run").get()
    assert entry.changes["failed"] == [None, 1]
    assert entry.changes["findings_opened"] == [None, 1]


@pytest.mark.parametrize(
    ("check", "results", "field"),
    [
        ({"severity": "urgent"}, [("a", "fail")], "severity"),
        ({"criteria": ["CC99.9"]}, [("a", "fail")], "criteria"),
        ({"controls": ["NOPE-1"]}, [("a", "fail")], "controls"),
        ({"key": "  "}, [("a", "fail")], "key"),
        ({}, [], "results"),
        ({}, [("a", "fail"), ("a", "pass")], "results"),
        ({}, [("a", "maybe")], "results"),
        ({}, [("x" * 501, "fail")], "resource"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    org, manager, connection, control, check, results, field
):
    with pytest.raises(ValidationFailed) as exc:
        push(manager, connection, *results, **check)
    assert exc.value.field == field
    assert not Check.objects.for_org(org).exists()
    assert not CheckResult.objects.for_org(org).exists()


def test_roles(org, connection, control, contributor, make_member, outsider):
    with pytest.raises(NotPermitted):
        push(contributor, connection, ("a", "fail"))
    with pytest.raises(NotPermitted):
        services.connection_create(
            membership=make_member(org, Role.COMPLIANCE_MANAGER), kind="custom", name="x"
        )
    with pytest.raises(NotFound):
        push(outsider, connection, ("a", "fail"))


def test_credentials_are_encrypted_and_never_logged(org, admin):
    conn = services.connection_create(
        membership=admin,
        kind="github",
        name="GitHub",
        credentials="ghp_supersecret",
        config={"organization": "acme"},
    )
    with org_scope(org), db_connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM monitoring_connection WHERE id = %s", [conn.pk])
        stored = cursor.fetchone()[0]
    assert "supersecret" not in stored
    entry = ActivityEntry.objects.for_org(org).filter(action="create").last()
    assert "supersecret" not in str(entry.changes)


def test_a_batch_takes_the_same_queries_whatever_its_size(org, manager, connection, control):
    def queries(n: int, prefix: str) -> int:
        with CaptureQueriesContext(db_connection) as ctx:
            push(
                manager,
                connection,
                *[(f"{prefix}-{i}", "fail" if i % 2 else "pass") for i in range(n)],
            )
        return len(ctx.captured_queries)

    queries(2, "warm")  # the check exists from here on
    # 60 rows fit one insert statement on SQLite too (it splits inserts by its variable limit).
    assert queries(3, "small") == queries(60, "big")


def test_open_findings_follow_the_controls_new_owner(
    org, manager, connection, control, contributor, make_member
):
    push(manager, connection, ("a", "fail"), ("b", "fail"))
    push(manager, connection, ("b", "pass"))  # closed: keeps the owner it had
    # A check whose first control is another one keeps its owner.
    other = make_member(org, Role.CONTRIBUTOR)
    ControlFactory(organization=org, owner=other, code="OT-01")
    push(manager, connection, ("c", "fail"), key="other", controls=("OT-01", "AC-01"))
    successor = make_member(org, Role.CONTRIBUTOR)

    control_update(membership=manager, control=control, owner=successor)

    owners = dict(Finding.objects.for_org(org).values_list("resource_id", "owner_id"))
    assert owners == {"a": successor.pk, "b": contributor.pk, "c": other.pk}
    entry = ActivityEntry.objects.for_org(org).get(action="reassign")
    assert entry.object_type == "monitoring.finding"
    assert entry.changes == {"owner": [None, successor.pk], "findings": [None, 1]}
    # The to-do moves with it, and the new owner sees the test.
    assert selectors.checks_visible(successor).count() == 2
    assert not selectors.findings_list(contributor).exists()

    control_update(membership=manager, control=control, owner=None)
    assert Finding.objects.for_org(org).get(resource_id="a").owner_id is None
    control_update(membership=manager, control=control, title="Renamed")  # owner unchanged
    assert ActivityEntry.objects.for_org(org).filter(action="reassign").count() == 2
