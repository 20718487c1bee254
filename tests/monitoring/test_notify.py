"""Monitoring's webhook events (check.failed, check.recovered, finding.overdue) delivered to a
real local receiver, and the owners' digest of tests that failed, recovered or went overdue."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evidence.freshness import freshness_check
from monitoring import services
from monitoring.events import overdue_sweep
from monitoring.models import Finding
from monitoring.services import CheckSpec, ResultSpec
from soc2app.schedule import beat_schedule
from tenants.activity import Actor
from tenants.models import ActivityEntry, Role, WebhookDelivery
from tenants.webhooks.services import webhook_endpoint_create
from tenants.webhooks.tasks import deliver_webhook
from tests.factories import ControlFactory, control_map
from tests.monitoring.conftest import push
from tests.webhook_receiver import verify

pytestmark = pytest.mark.django_db

EVENTS = ["check.failed", "check.recovered", "finding.overdue"]


@pytest.fixture
def hook(org, owner, receiver, allow_private):
    endpoint, secret = webhook_endpoint_create(membership=owner, url=receiver.url, events=EVENTS)
    endpoint.plain_secret = secret
    return endpoint


def _delivered(org, receiver, hook, event):
    """Send every pending delivery of ``event`` to the receiver; their bodies."""
    bodies = []
    for delivery in WebhookDelivery.objects.for_org(org).filter(event=event).order_by("pk"):
        before = len(receiver.requests)
        assert deliver_webhook(delivery.pk) == "succeeded"
        bodies.extend(verify(r, hook.plain_secret) for r in receiver.requests[before:])
    return bodies


def test_failing_then_recovering_sends_one_event_each(
    org,
    manager,
    connection,
    control,
    contributor,
    hook,
    receiver,
    django_capture_on_commit_callbacks,
):
    push(manager, connection, ("bucket-a", "fail"), ("bucket-b", "pass"))
    push(manager, connection, ("bucket-a", "fail"), ("bucket-c", "fail"))  # still failing: no news
    (failed,) = _delivered(org, receiver, hook, "check.failed")
    data = failed["data"]
    finding = Finding.objects.for_org(org).get(resource_id="bucket-a")
    assert failed["event"] == "check.failed" and failed["organization"] == org.slug
    assert data["check"]["key"] == "s3-encryption" and data["check"]["severity"] == "high"
    assert data["check"]["url"].endswith(f"/o/{org.slug}/monitoring/checks/{finding.check_ref_id}/")
    assert data["check"]["api_url"].endswith(f"/monitoring/checks/{finding.check_ref_id}/")
    assert data["connection"] == {"id": connection.pk, "name": connection.name, "kind": "custom"}
    assert data["resources_failing"] == ["bucket-a"] and data["resources_failing_count"] == 1
    assert data["findings"] == [finding.pk]
    assert data["owner"] == {"email": contributor.user.email}
    # Nothing secret or free-form: no credentials, settings or result details.
    assert "credentials" not in json.dumps(failed) and "config" not in data["connection"]

    push(manager, connection, ("bucket-a", "pass"), ("bucket-c", "pass"))
    (recovered,) = _delivered(org, receiver, hook, "check.recovered")
    assert recovered["data"]["check"]["key"] == "s3-encryption"
    assert sorted(recovered["data"]["findings_closed"]) == sorted(
        Finding.objects.for_org(org).values_list("pk", flat=True)
    )
    push(manager, connection, ("bucket-a", "pass"))  # still passing: no news
    assert WebhookDelivery.objects.for_org(org).count() == 2


def test_a_passing_new_check_and_other_organizations_send_nothing(
    org, other_org, manager, connection, control, hook, make_member
):
    push(manager, connection, ("bucket-a", "pass"))
    assert not WebhookDelivery.objects.for_org(org).exists()
    # An endpoint of another organization never hears of this one's checks.
    push(manager, connection, ("bucket-a", "fail"))
    assert not WebhookDelivery.objects.for_org(other_org).exists()
    assert WebhookDelivery.objects.for_org(org).filter(event="check.failed").count() == 1


def _batch(n, status):
    return [
        (
            CheckSpec(key=f"c{i}", title=f"C{i}", severity="low", criteria=("CC6.1",)),
            [ResultSpec(resource="r", status=status)],
        )
        for i in range(n)
    ]


def test_events_cost_a_constant_number_of_queries(org, connection, control, hook):
    def ingest(n, status):
        services.results_ingest(
            organization=org,
            connection=connection,
            batch=_batch(n, status),
            source="push",
            actor=Actor.system("test"),
        )

    for n in (2, 20):
        ingest(n, "pass")
    counts = []
    for n in (2, 20):
        with CaptureQueriesContext(db_connection) as ctx:
            ingest(n, "fail")
        counts.append(len(ctx.captured_queries))
    # A changed check adds three queries (the endpoints, the owners' e-mails, the deliveries)
    # whatever the number of checks that changed.
    assert counts[0] == counts[1]
    assert (
        WebhookDelivery.objects.for_org(org).filter(event="check.failed").count() == 20
    )  # c0..c19


def test_overdue_findings_are_announced_once_per_finding(
    org, manager, connection, control, contributor, hook, receiver
):
    push(manager, connection, ("bucket-a", "fail"), ("bucket-b", "fail"))
    push(manager, connection, ("x", "fail"), key="other", severity="critical")
    WebhookDelivery.objects.for_org(org).delete()
    due = Finding.objects.for_org(org).get(resource_id="bucket-a").due_date
    today = due + dt.timedelta(days=1)  # the critical one (7 days) and both high ones

    assert overdue_sweep(today=today) == {org.slug: 3}
    bodies = _delivered(org, receiver, hook, "finding.overdue")
    assert len(bodies) == 2  # one per check
    s3 = next(b["data"] for b in bodies if b["data"]["check"]["key"] == "s3-encryption")
    assert s3["findings_count"] == 2 and s3["date"] == today.isoformat()
    assert {f["resource"] for f in s3["findings"]} == {"bucket-a", "bucket-b"}
    assert s3["findings"][0]["owner_email"] == contributor.user.email
    assert s3["findings"][0]["due_date"] == due.isoformat()
    entry = ActivityEntry.objects.for_org(org).get(object_type="monitoring.finding")
    assert entry.changes == {"overdue": [None, 3]}

    # Again, and the day after: nothing is announced twice.
    assert overdue_sweep(today=today) == {}
    assert overdue_sweep(today=today + dt.timedelta(days=1)) == {}
    assert WebhookDelivery.objects.for_org(org).filter(event="finding.overdue").count() == 2


def test_findings_not_yet_due_or_closed_are_not_overdue(org, manager, connection, control, hook):
    push(manager, connection, ("bucket-a", "fail"), ("bucket-b", "fail"))
    push(manager, connection, ("bucket-b", "pass"))
    due = Finding.objects.for_org(org).get(resource_id="bucket-a").due_date
    assert overdue_sweep(today=due) == {}  # due today is not overdue yet
    assert overdue_sweep(today=due + dt.timedelta(days=1)) == {org.slug: 1}


def test_the_sweep_runs_daily_before_the_digests():
    entry = beat_schedule(evidence_check_hour=6)["monitoring-overdue-findings"]
    assert entry["task"] == "monitoring.sweep_overdue_findings"
    assert entry["schedule"].hour == {5} and entry["schedule"].minute == {50}
    assert beat_schedule(evidence_check_hour=0)["monitoring-overdue-findings"]["schedule"].hour == {
        23
    }


# --- the owners' digest ------------------------------------------------------------------------


@pytest.fixture
def digest(django_capture_on_commit_callbacks):
    def go(today=None):
        with django_capture_on_commit_callbacks(execute=True):
            return freshness_check(today=today or timezone.localdate())

    return go


def test_owners_are_told_of_failing_recovered_and_overdue_tests_once(
    org, manager, connection, control, contributor, digest, make_member
):
    other_owner = make_member(org, Role.CONTRIBUTOR)
    other = ControlFactory(organization=org, owner=other_owner, code="OT-01", title="Other")
    push(manager, connection, ("bucket-a", "fail"))
    push(manager, connection, ("x", "pass"), key="ok", controls=("OT-01",), criteria=())

    digest()
    (message,) = mail.outbox
    assert message.to == [contributor.user.email]
    assert message.subject == f"{org.name}: 1 thing needs attention"
    assert "Tests that started failing" in message.body
    assert "S3 buckets are encrypted (high) — AC-01" in message.body
    assert "/monitoring/checks/" in message.body
    assert "Tests that started failing" in message.alternatives[0][0]

    mail.outbox.clear()
    digest()  # nothing new
    assert mail.outbox == []

    push(manager, connection, ("bucket-a", "pass"))
    push(manager, connection, ("x", "fail"), key="ok", controls=("OT-01",), criteria=())
    due = Finding.objects.for_org(org).get(resource_id="x").due_date
    overdue_sweep(today=due + dt.timedelta(days=1))
    digest()
    by_to = {m.to[0]: m.body for m in mail.outbox}
    assert set(by_to) == {contributor.user.email, other_owner.user.email}
    assert "Tests passing again" in by_to[contributor.user.email]
    assert "OT-01" not in by_to[contributor.user.email]  # not their control
    theirs = by_to[other_owner.user.email]
    assert "Tests that started failing" in theirs and "Overdue findings" in theirs
    assert f"1 finding due {due:%d %b %Y}" in theirs
    assert other.code in theirs

    mail.outbox.clear()
    digest()
    assert mail.outbox == []


def test_a_test_nobody_owns_goes_to_the_compliance_managers(org, manager, connection, digest):
    control_map(ControlFactory(organization=org, owner=None, code="NO-01"), "CC6.1")
    push(manager, connection, ("bucket-a", "fail"))
    digest()
    (message,) = mail.outbox
    assert message.to == [manager.user.email]


def test_a_failure_and_recovery_between_digests_is_no_news(
    org, manager, connection, control, digest
):
    push(manager, connection, ("bucket-a", "fail"))
    push(manager, connection, ("bucket-a", "pass"))
    digest()
    assert mail.outbox == []
