"""Webhook endpoints through the API: an admin key subscribes, pauses, tests and removes an
endpoint and reads its delivery log; other roles, auditors and other organizations cannot."""

from __future__ import annotations

import pytest
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from tenants.activity import Actor
from tenants.apikeys import api_key_create_system
from tenants.models import ActivityEntry, Role, WebhookDelivery, WebhookEndpoint
from tenants.webhooks.delivery import delivery_attempt
from tenants.webhooks.services import (
    webhook_endpoint_create,
    webhook_send_test,
    webhooks_emit,
)
from tests.api.conftest import org_url
from tests.webhook_receiver import allow_private, receiver, verify  # noqa: F401

PUBLIC = "https://93.184.215.14/hooks/soc2"


def test_an_admin_key_subscribes_receives_signed_events_and_unsubscribes(
    org,
    key_for,
    receiver,  # noqa: F811  (the fixtures imported above)
    allow_private,  # noqa: F811
):
    client = key_for(org, "admin")
    url = org_url(org, "webhooks/")
    created = client.post(
        url,
        {"url": receiver.url, "events": ["report.ready", "evidence.stale"], "description": "CI"},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and body["events"] == ["evidence.stale", "report.ready"]
    endpoint_url = f"{url}{body['id']}/"
    # The secret is shown once: never in reads.
    assert "secret" not in client.get(endpoint_url).json()
    assert all("secret" not in row for row in client.get(url).json()["results"])

    # An event of the organization reaches the endpoint, signed with that secret.
    (delivery,) = webhooks_emit(organization=org, event="report.ready", payload={"report": 1})
    delivery_attempt(delivery_id=delivery.pk)
    assert verify(receiver.requests[-1], secret)["event"] == "report.ready"
    log = client.get(f"{endpoint_url}deliveries/").json()
    assert log["count"] == 1
    assert log["results"][0]["status"] == "succeeded"
    assert log["results"][0]["attempt_log"][0]["status_code"] == 200

    # A test event, on request.
    queued = client.post(f"{endpoint_url}test/")
    assert queued.status_code == 202 and queued.json()["event"] == "webhook.test"
    delivery_attempt(delivery_id=queued.json()["id"])
    assert verify(receiver.requests[-1], secret)["event"] == "webhook.test"

    # Paused: nothing more is recorded for it; resumed: events flow again.
    paused = client.patch(endpoint_url, {"active": False, "events": ["evidence.stale"]})
    assert paused.status_code == 200 and paused.json()["active"] is False
    assert webhooks_emit(organization=org, event="evidence.stale", payload={}) == []
    assert client.patch(endpoint_url, {"active": True}).json()["active"] is True
    assert len(webhooks_emit(organization=org, event="evidence.stale", payload={})) == 1
    assert webhooks_emit(organization=org, event="report.ready", payload={}) == []

    assert client.delete(endpoint_url).status_code == 204
    assert not WebhookEndpoint.objects.for_org(org).exists()
    assert client.get(endpoint_url).status_code == 404
    actions = set(
        ActivityEntry.objects.for_org(org)
        .filter(object_type="tenants.webhookendpoint")
        .values_list("action", flat=True)
    )
    assert actions == {"create", "update", "delete"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "http://127.0.0.1/hook", "events": ["report.ready"]}, "url"),
        ({"url": "http://169.254.169.254/latest/", "events": ["report.ready"]}, "url"),
        ({"url": "ftp://93.184.215.14/", "events": ["report.ready"]}, "url"),
        ({"url": PUBLIC, "events": ["report.done"]}, "events"),
        ({"url": PUBLIC, "events": []}, "events"),
        ({"url": PUBLIC, "events": "report.ready"}, "events"),
        ({"url": PUBLIC}, "events"),
        ({"url": "x" * 501, "events": ["report.ready"]}, "url"),
        ({"url": PUBLIC, "events": ["report.ready"], "secret": "mine"}, "secret"),
    ],
)
def test_bad_subscriptions_are_400_and_create_nothing(org, key_for, data, field):
    response = key_for(org, "admin").post(org_url(org, "webhooks/"), data)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["detail"] and body["code"]
    assert field in body.get("errors", {}) or field in body["detail"].lower(), body
    assert not WebhookEndpoint.objects.for_org(org).exists()


def test_malformed_json_is_400(org, key_for):
    response = key_for(org, "admin").post(
        org_url(org, "webhooks/"), data="{nope", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"]


@pytest.fixture
def endpoint(org, owner):
    created, _ = webhook_endpoint_create(membership=owner, url=PUBLIC, events=["report.ready"])
    return created


@pytest.mark.parametrize("role", ["read_only", "contributor", "compliance_manager"])
def test_keys_below_admin_are_refused_everything(org, key_for, endpoint, role):
    client = key_for(org, role)
    base = org_url(org, "webhooks/")
    one = f"{base}{endpoint.pk}/"
    assert client.get(base).status_code == 403
    assert client.get(one).status_code == 403
    assert client.get(f"{one}deliveries/").status_code == 403
    assert client.post(base, {"url": PUBLIC + "2", "events": ["report.ready"]}).status_code == 403
    assert client.patch(one, {"active": False}).status_code == 403
    assert client.post(f"{one}test/").status_code == 403
    assert client.delete(one).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.active and WebhookEndpoint.objects.for_org(org).count() == 1
    assert not WebhookDelivery.objects.for_org(org).exists()


def test_people_sessions_follow_their_roles(org, endpoint, api_for, make_member):
    admin = api_for(make_member(org, Role.ADMIN))
    assert admin.get(org_url(org, "webhooks/")).json()["count"] == 1
    for role in (Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR):
        client = api_for(make_member(org, role))
        assert client.get(org_url(org, "webhooks/")).status_code == 403, role
        assert client.delete(org_url(org, f"webhooks/{endpoint.pk}/")).status_code == 403, role
    assert WebhookEndpoint.objects.for_org(org).count() == 1


def test_other_organizations_endpoints_are_404(org, other_org, key_for, endpoint):
    theirs = key_for(other_org, "admin")
    own = org_url(other_org, f"webhooks/{endpoint.pk}/")
    assert theirs.get(own).status_code == 404
    assert theirs.patch(own, {"active": False}).status_code == 404
    assert theirs.post(f"{own}test/").status_code == 404
    assert theirs.get(f"{own}deliveries/").status_code == 404
    assert theirs.delete(own).status_code == 404
    assert theirs.get(org_url(other_org, "webhooks/")).json()["count"] == 0
    # Their key on this organization's URLs: the organization does not exist for it.
    assert theirs.get(org_url(org, "webhooks/")).status_code == 404
    for bad in ("0", "abc", str(10**30)):
        assert key_for(org, "admin").get(org_url(org, f"webhooks/{bad}/")).status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.active


@pytest.mark.parametrize("rows", [1, 30])
def test_list_and_log_queries_do_not_grow(org, key_for, owner, rows, django_assert_num_queries):
    # Written directly: the services stop at MAX_ENDPOINTS, the list must not care.
    WebhookEndpoint.objects.bulk_create(
        WebhookEndpoint(
            organization=org, url=f"{PUBLIC}/{n}", secret=f"whsec_{n}", events=["report.ready"]
        )
        for n in range(rows)
    )
    first = WebhookEndpoint.objects.for_org(org).order_by("pk").first()
    for _ in range(rows):
        webhook_send_test(membership=owner, endpoint=first)
    client = key_for(org, "admin")
    client.get(org_url(org, "webhooks/"))  # warm: the key's last use is recorded once
    # key (with its organization), count, page
    with django_assert_num_queries(3):
        response = client.get(org_url(org, "webhooks/"), {"page_size": 50})
    assert response.json()["count"] == rows and len(response.json()["results"]) == rows
    # key, endpoint, count, page
    with django_assert_num_queries(4):
        response = client.get(org_url(org, f"webhooks/{first.pk}/deliveries/"), {"page_size": 50})
    assert response.json()["count"] == rows and len(response.json()["results"]) == rows


@pytest.mark.parametrize("field", ["url", "secret"])
def test_url_and_secret_do_not_change_and_say_so(org, key_for, endpoint, field):
    response = key_for(org, "admin").patch(
        org_url(org, f"webhooks/{endpoint.pk}/"), {field: PUBLIC + "/new", "active": False}
    )
    assert response.status_code == 400
    assert "subscribe the new URL" in response.json()["errors"][field][0]
    endpoint.refresh_from_db()
    assert endpoint.url == PUBLIC and endpoint.active


def test_a_browser_session_needs_its_csrf_token(org, make_member):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(make_member(org, Role.ADMIN).user)
    url = org_url(org, "webhooks/")
    body = {"url": PUBLIC, "events": ["evidence.stale"]}
    assert client.get(url).status_code == 200
    refused = client.post(url, body, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    token = get_random_string(32)  # 32 characters, as Django's cookie holds
    client.cookies["csrftoken"] = token
    created = client.post(url, body, format="json", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201, created.json()
    assert created.json()["secret"].startswith("whsec_")
    assert WebhookEndpoint.objects.for_org(org).get().created_by is not None


def test_an_admin_key_manages_webhooks_but_not_keys_or_people(org):
    from soc2app.errors import NotPermitted
    from tenants import permissions
    from tenants.apikeys import api_key_create
    from tenants.permissions import Action

    key, _ = api_key_create_system(
        organization=org, name="ci", role="admin", expires_days=None, actor=Actor.system("t")
    )
    assert permissions.can(key, Action.WEBHOOK_MANAGE)
    assert not permissions.can(key, Action.MEMBER_MANAGE)
    with pytest.raises(NotPermitted):
        api_key_create(membership=key, name="minted", role="read_only", expires_days=None)
    endpoint, _ = webhook_endpoint_create(membership=key, url=PUBLIC, events=["report.ready"])
    assert endpoint.organization_id == org.pk and endpoint.created_by is None
