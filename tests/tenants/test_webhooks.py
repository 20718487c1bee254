"""Webhooks: the SSRF guard, signed deliveries to a real local receiver, retries (the page:
test_webhooks_page.py)."""

from __future__ import annotations

import ipaddress
import json

import pytest
from django.utils import timezone

from soc2app.errors import NotPermitted, ValidationFailed
from tenants.models import (
    ActivityEntry,
    DeliveryStatus,
    Role,
    WebhookDelivery,
    WebhookEndpoint,
)
from tenants.webhooks import net
from tenants.webhooks.delivery import (
    _schedule_retry,
    backoff,
    delivery_attempt,
    due_delivery_ids,
)
from tenants.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhooks_emit,
)
from tenants.webhooks.tasks import deliver_webhook
from tests.webhook_receiver import verify

pytestmark = pytest.mark.django_db


# --- the SSRF guard ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:8000/hook",
        "https://0.0.0.0/",
        "http://100.64.0.1/",
        "http://[fe80::1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:7f00:1::]/",
        "http://224.0.0.1/",
    ],
)
def test_private_and_reserved_addresses_are_refused(url, org, owner):
    with pytest.raises(ValidationFailed) as err:
        webhook_endpoint_create(membership=owner, url=url, events=["evidence.stale"])
    assert err.value.code == "url_not_public" and err.value.field == "url"
    assert not WebhookEndpoint.objects.for_org(org).exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.215.14/", "http://"),
        ("file:///etc/passwd", "http://"),
        ("gopher://93.184.215.14:70/", "http://"),
        ("https://user:pw@93.184.215.14/", "user name"),
        ("https://93.184.215.14:99999/", "port"),
        ("https:///nohost", "host"),
        ("", "http://"),
        ("https://93.184.215.14/a b", "spaces"),
        ("https://93.184.215.14/\r\nX-Evil: 1", "spaces"),
    ],
)
def test_only_plain_http_urls_are_accepted(url, message, org, owner):
    with pytest.raises(ValidationFailed, match=message):
        webhook_endpoint_create(membership=owner, url=url, events=["evidence.stale"])


def test_a_public_address_is_accepted(org, owner):
    endpoint, secret = webhook_endpoint_create(
        membership=owner, url="https://93.184.215.14/hooks", events=["report.ready"]
    )
    assert secret.startswith("whsec_") and len(secret) > 40
    assert endpoint.events == ["report.ready"] and endpoint.created_by == owner.user
    entry = ActivityEntry.objects.for_org(org).get(object_type="tenants.webhookendpoint")
    assert entry.action == "create" and secret not in json.dumps(entry.changes)


def test_ipv4_mapped_and_embedded_addresses():
    assert not net.is_public(ipaddress.ip_address("::ffff:10.1.2.3"))
    assert not net.is_public(ipaddress.ip_address("::ffff:169.254.169.254"))
    assert net.is_public(ipaddress.ip_address("::ffff:93.184.215.14"))
    assert net.is_public(ipaddress.ip_address("2606:4700::1111"))


def test_events_must_be_known(org, owner):
    for events in ([], ["evidence.deleted"], ["webhook.test"]):
        with pytest.raises(ValidationFailed) as err:
            webhook_endpoint_create(membership=owner, url="https://93.184.215.14/", events=events)
        assert err.value.field == "events"


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR])
def test_only_owners_and_admins_manage_endpoints(role, org, make_member):
    with pytest.raises(NotPermitted):
        webhook_endpoint_create(
            membership=make_member(org, role), url="https://93.184.215.14/", events=["report.ready"]
        )


# --- deliveries ---------------------------------------------------------------------------------
def test_emit_records_deliveries_and_enqueues_after_commit(
    org, owner, endpoint, django_capture_on_commit_callbacks
):
    other, _ = webhook_endpoint_create(
        membership=owner, url="https://93.184.215.14/x", events=["evidence.expiring"]
    )
    WebhookEndpoint.objects.for_org(org).filter(pk=other.pk).update(active=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deliveries = webhooks_emit(organization=org, event="evidence.stale", payload={"n": 1})
    assert [d.endpoint_id for d in deliveries] == [endpoint.pk]  # only the subscribed endpoint
    assert len(callbacks) == 1
    assert webhooks_emit(organization=org, event="report.ready", payload={})[0].event == (
        "report.ready"
    )
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhooks_emit(organization=org, event="nope", payload={})


def test_inactive_endpoints_and_other_organizations_receive_nothing(org, other_org, endpoint):
    WebhookEndpoint.objects.for_org(org).filter(pk=endpoint.pk).update(active=False)
    assert webhooks_emit(organization=org, event="evidence.stale", payload={}) == []
    assert webhooks_emit(organization=other_org, event="evidence.stale", payload={}) == []


def test_a_delivery_is_signed_and_sent_once(org, endpoint, receiver):
    (delivery,) = webhooks_emit(
        organization=org, event="evidence.stale", payload={"control": "CC-1", "items": 2}
    )
    assert deliver_webhook(delivery.pk) == "succeeded"  # the task body, run inline
    (request,) = receiver.requests
    headers = request["headers"]
    assert headers["X-Soc2-Event"] == "evidence.stale"
    assert headers["X-Soc2-Delivery"] == str(delivery.uuid)
    assert abs(int(headers["X-Soc2-Timestamp"]) - timezone.now().timestamp()) < 60
    assert headers["Content-Type"] == "application/json"
    body = verify(request, endpoint.plain_secret)
    assert body["event"] == "evidence.stale" and body["organization"] == org.slug
    assert body["data"] == {"control": "CC-1", "items": 2} and body["id"] == str(delivery.uuid)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.status_code == 200
    assert delivery.attempts == 1 and delivery.delivered_at and delivery.last_error == ""
    # A duplicate task message finds nothing to claim: nothing is sent twice.
    assert delivery_attempt(delivery_id=delivery.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_a_wrong_secret_does_not_verify(org, endpoint, receiver):
    (delivery,) = webhooks_emit(organization=org, event="report.ready", payload={})
    delivery_attempt(delivery_id=delivery.pk)
    with pytest.raises(AssertionError):
        verify(receiver.requests[0], "whsec_wrong")


def test_failures_are_retried_with_backoff_and_recorded(
    org, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.status = 500
    (delivery,) = webhooks_emit(organization=org, event="report.ready", payload={"id": 7})
    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        assert delivery_attempt(delivery_id=delivery.pk) == "retry"
    assert len(scheduled) == 1  # the retry is enqueued once the outcome is committed
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.status_code == 500 and delivery.last_error.startswith("HTTP 500")
    wait = delivery.next_retry_at - timezone.now()
    assert backoff(1).total_seconds() - 5 < wait.total_seconds() <= backoff(1).total_seconds()
    # Not due yet: a premature task does nothing.
    assert delivery_attempt(delivery_id=delivery.pk) == "skipped"
    for expected in ("retry", "failed"):
        WebhookDelivery.objects.for_org(org).filter(pk=delivery.pk).update(
            next_retry_at=timezone.now()
        )
        assert delivery_attempt(delivery_id=delivery.pk) == expected
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3
    assert [a["status_code"] for a in delivery.attempt_log] == [500, 500, 500]
    assert len(receiver.requests) == 3
    assert backoff(2) == 2 * backoff(1) and backoff(30).total_seconds() == 6 * 3600


def test_a_retry_longer_than_half_the_visibility_timeout_is_left_to_the_sweeper(
    org, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    """A countdown message waits unacknowledged: Redis would hand it out again each
    visibility timeout. Long waits go to the minute sweeper instead, on time all the same."""
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 30 - 2}
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.status = 503
    (delivery,) = webhooks_emit(organization=org, event="report.ready", payload={})
    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        assert delivery_attempt(delivery_id=delivery.pk) == "retry"
    assert len(scheduled) == 1
    assert _schedule_retry(delivery.pk, backoff(1)) is False  # 30 s > 29 s: not enqueued
    assert delivery.pk not in due_delivery_ids()  # not due yet
    WebhookDelivery.objects.for_org(org).filter(pk=delivery.pk).update(next_retry_at=timezone.now())
    assert delivery.pk in due_delivery_ids()  # the sweeper sends it now


def test_the_address_is_checked_again_at_delivery_time(org, endpoint, receiver, settings):
    """Saved while private addresses were allowed (or before DNS changed): refused now."""
    (delivery,) = webhooks_emit(organization=org, event="report.ready", payload={})
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert delivery_attempt(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert "private or reserved address" in delivery.last_error and delivery.status_code is None
    assert receiver.requests == []


def test_a_receiver_that_is_down_is_an_error_not_a_crash(org, owner, allow_private):
    import socket

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead, _ = webhook_endpoint_create(
        membership=owner, url=f"http://127.0.0.1:{port}/", events=["report.ready"]
    )
    (delivery,) = webhooks_emit(organization=org, event="report.ready", payload={})
    assert delivery_attempt(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Connection failed") and dead.pk == delivery.endpoint_id


def test_removing_an_endpoint_is_logged(org, owner, endpoint):
    webhooks_emit(organization=org, event="report.ready", payload={})
    webhook_endpoint_delete(membership=owner, endpoint=endpoint)
    assert not WebhookEndpoint.objects.for_org(org).exists()
    assert not WebhookDelivery.objects.for_org(org).exists()
    assert ActivityEntry.objects.for_org(org).filter(action="delete").count() == 1


def test_the_connection_goes_to_the_checked_address_not_a_fresh_lookup(receiver):
    """DNS rebinding: the host name is only sent (Host header), never resolved again."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    target = net.Target(
        scheme="http",
        host="hooks.example.invalid",  # would not resolve at all
        port=port,
        path="/hook",
        addresses=("127.0.0.1",),
    )
    response = net.post(target, b"{}", {"Content-Type": "application/json"}, timeout=5)
    assert response.status == 200
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.invalid:{port}"
