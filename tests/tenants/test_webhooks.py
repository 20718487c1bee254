"""Webhooks: the SSRF guard, signed deliveries to a real local receiver, retries, the page."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
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
    webhook_send_test,
    webhooks_emit,
)
from tenants.webhooks.tasks import deliver_webhook

pytestmark = pytest.mark.django_db


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records requests and answers ``status``."""

    url: str
    status: int = 200
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"headers": dict(self.headers), "body": body})
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"nope" if state.status >= 400 else b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook?source=soc2"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def endpoint(org, owner, receiver, allow_private):
    created, secret = webhook_endpoint_create(
        membership=owner, url=receiver.url, events=["evidence.stale", "report.ready"]
    )
    created.plain_secret = secret
    return created


def verify(request: dict, secret: str) -> dict:
    """What a receiver does: recompute the signature over "<timestamp>.<body>"."""
    headers, body = request["headers"], request["body"]
    expected = hmac.new(
        secret.encode(), headers["X-Soc2-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["X-Soc2-Signature"], f"sha256={expected}")
    return json.loads(body)


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


# --- the page ----------------------------------------------------------------------------------
def url(org, name="webhook_endpoints", **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_empty_state(org, owner, client_for):
    body = client_for(owner).get(url(org)).content.decode()
    assert "No endpoints yet" in body and "Nothing sent yet" in body


def test_page_query_count(org, owner, endpoint, client_for, django_assert_num_queries):
    for _ in range(3):
        webhooks_emit(organization=org, event="report.ready", payload={})
    client = client_for(owner)
    client.get(url(org))
    # session, user, membership (+organization), switcher memberships, endpoints,
    # deliveries (+endpoint)
    with django_assert_num_queries(6):
        body = client.get(url(org)).content.decode()
    assert body.count(">Pending</span>") == 3  # one row per delivery


def test_add_an_endpoint_shows_the_secret_once(org, owner, client_for):
    client = client_for(owner)
    data = {"url": "https://93.184.215.14/h", "events": ["evidence.stale"], "description": "PD"}
    response = client.post(url(org), data)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = response.context["created"]["secret"]
    assert secret in response.content.decode()
    assert WebhookEndpoint.objects.for_org(org).get().secret == secret
    assert secret not in client.get(url(org)).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"url": "http://169.254.169.254/", "events": ["evidence.stale"]},
        {"url": "javascript:alert(1)", "events": ["evidence.stale"]},
        {"url": "https://93.184.215.14/", "events": []},
        {"url": "https://93.184.215.14/", "events": ["bogus"]},
        {"url": "x" * 600, "events": ["evidence.stale"]},
    ],
)
def test_bad_endpoints_are_a_400_with_a_message(data, org, owner, client_for):
    response = client_for(owner).post(url(org), data)
    assert response.status_code == 400 and 'class="error"' in response.content.decode()
    assert not WebhookEndpoint.objects.for_org(org).exists()


def test_send_a_test_event_and_remove(org, owner, endpoint, receiver, client_for):
    client = client_for(owner)
    assert client.post(url(org, "webhook_endpoint_test", pk=endpoint.pk)).status_code == 302
    delivery = WebhookDelivery.objects.for_org(org).get()
    assert delivery.event == "webhook.test"
    delivery_attempt(delivery_id=delivery.pk)
    assert verify(receiver.requests[0], endpoint.plain_secret)["event"] == "webhook.test"
    assert "Delivered (200)" in client.get(url(org)).content.decode()
    assert client.post(url(org, "webhook_endpoint_delete", pk=endpoint.pk)).status_code == 302
    assert not WebhookEndpoint.objects.for_org(org).exists()


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR])
def test_other_roles_are_refused(role, org, endpoint, make_member, client_for):
    client = client_for(make_member(org, role))
    # Auditors are kept in the auditor portal: other pages send them there (GET) or 403.
    assert client.get(url(org)).status_code == (302 if role == Role.AUDITOR else 403)
    data = {"url": "https://93.184.215.14/", "events": ["report.ready"]}
    assert client.post(url(org), data).status_code == 403
    assert client.post(url(org, "webhook_endpoint_test", pk=endpoint.pk)).status_code == 403
    assert client.post(url(org, "webhook_endpoint_delete", pk=endpoint.pk)).status_code == 403
    assert WebhookEndpoint.objects.for_org(org).count() == 1
    assert not WebhookDelivery.objects.for_org(org).exists()


def test_outsiders_get_404(org, endpoint, outsider, client_for):
    client = client_for(outsider)
    assert client.get(url(org)).status_code == 404
    own = outsider.organization
    for name in ("webhook_endpoint_test", "webhook_endpoint_delete"):
        assert client.post(url(org, name, pk=endpoint.pk)).status_code == 404
        assert client.post(url(own, name, pk=endpoint.pk)).status_code == 404
    assert WebhookEndpoint.objects.for_org(org).count() == 1


def test_a_test_event_needs_the_right_role(org, endpoint, make_member):
    with pytest.raises(NotPermitted):
        webhook_send_test(membership=make_member(org, Role.COMPLIANCE_MANAGER), endpoint=endpoint)


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
