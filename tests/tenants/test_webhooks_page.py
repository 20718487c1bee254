"""The webhooks page: empty state, adding an endpoint (its secret shown once), bad input, a
test event, removal, who may do what, and its query count."""

from __future__ import annotations

import pytest
from django.urls import reverse

from soc2app.errors import NotPermitted
from tenants.models import Role, WebhookDelivery, WebhookEndpoint
from tenants.webhooks.delivery import delivery_attempt
from tenants.webhooks.services import webhook_send_test, webhooks_emit
from tests.webhook_receiver import verify

pytestmark = pytest.mark.django_db


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
    assert WebhookEndpoint.objects.for_org(org).get().secret.reveal() == secret
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
