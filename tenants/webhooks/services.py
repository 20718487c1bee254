"""Webhook endpoints (add, remove, send a test) and ``webhooks_emit``, which other apps call."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from soc2app.errors import NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import (
    Membership,
    Organization,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tenants.permissions import Action
from tenants.webhooks import net

# Events an endpoint can subscribe to (the test event goes to one endpoint, on request).
SUBSCRIBABLE = [e for e in WebhookEvent.values if e != WebhookEvent.TEST]
MAX_ENDPOINTS = 20
RECENT_DELIVERIES = 20

logger = logging.getLogger(__name__)


def _enqueue(delivery_ids: Iterable[int]) -> None:
    """Runs after commit. With the broker down the rows stay pending: the every-minute sweeper
    (``retry_due_deliveries``) sends them once it is back; the request does not fail."""
    from tenants.webhooks.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        try:
            deliver_webhook.delay(delivery_id)
        except Exception as exc:  # broker down, pool closed, timeout: all wait for the sweeper
            logger.warning("webhook delivery %s left for the sweeper: %s", delivery_id, exc)


def _validate_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    unknown = [e for e in chosen if e not in SUBSCRIBABLE]
    if unknown:
        raise ValidationFailed(
            f"Unknown event {unknown[0]!r}; choose from {', '.join(SUBSCRIBABLE)}.",
            field="events",
        )
    if not chosen:
        raise ValidationFailed("Choose at least one event to receive.", field="events")
    return chosen


def webhook_endpoint_create(
    *, membership: Membership, url: str, events: Iterable[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown to the user once).

    ``membership`` may be an ``admin`` API key: an integration subscribes its own endpoint
    (unlike keys and people, which only people manage: ``tenants.apikeys``, ``MEMBER_MANAGE``).
    """
    permissions.require(membership, Action.WEBHOOK_MANAGE)
    org = membership.organization
    url = (url or "").strip()
    if len(url) > WebhookEndpoint._meta.get_field("url").max_length:
        raise ValidationFailed("Keep the URL under 500 characters.", field="url")
    net.resolve(url)  # refuses non-http(s) and private addresses, with a message
    chosen = _validate_events(events)
    description = (description or "").strip()[:120]
    if WebhookEndpoint.objects.for_org(org).count() >= MAX_ENDPOINTS:
        raise ValidationFailed(f"An organization can have at most {MAX_ENDPOINTS} endpoints.")
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        organization=org,
        url=url,
        description=description,
        secret=secret,
        events=chosen,
        created_by=membership.user,
    )
    try:
        with transaction.atomic():
            endpoint.save()
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="create",
                target=endpoint,
                changes={"url": [None, url], "events": [None, chosen]},
            )
    except IntegrityError as exc:
        raise ValidationFailed("This URL is already an endpoint.", field="url") from exc
    return endpoint, secret


def webhook_endpoint_update(
    *,
    membership: Membership,
    endpoint: WebhookEndpoint,
    events: Iterable[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change what an endpoint receives, its description, or pause it (``active``). The URL
    and secret stay: a new URL is a new endpoint, with a new secret."""
    permissions.require(membership, Action.WEBHOOK_MANAGE)
    if endpoint.organization_id != membership.organization_id:
        raise NotFound("Webhook endpoint not found.")
    changes: dict[str, list[Any]] = {}
    if events is not None:
        chosen = _validate_events(events)
        if chosen != endpoint.events:
            changes["events"] = [endpoint.events, chosen]
            endpoint.events = chosen
    if description is not None:
        description = description.strip()[:120]
        if description != endpoint.description:
            changes["description"] = [endpoint.description, description]
            endpoint.description = description
    if active is not None and active != endpoint.active:
        changes["active"] = [endpoint.active, active]
        endpoint.active = active
    if changes:
        with transaction.atomic():
            endpoint.save(update_fields=[name for name in changes])
            activity_record(
                organization=membership.organization,
                actor=Actor.for_principal(membership),
                action="update",
                target=endpoint,
                changes=changes,
            )
    return endpoint


def deliveries_for_endpoint(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.for_org(endpoint.organization_id).filter(endpoint=endpoint)


def webhook_endpoint_delete(*, membership: Membership, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log (the activity log keeps the record)."""
    permissions.require(membership, Action.WEBHOOK_MANAGE)
    if endpoint.organization_id != membership.organization_id:
        raise NotFound("Webhook endpoint not found.")
    with transaction.atomic():
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="delete",
            target=endpoint,
            changes={"url": [endpoint.url, None]},
        )
        WebhookDelivery.objects.for_org(membership.organization).filter(endpoint=endpoint).delete()
        endpoint.delete()


def _delivery_rows(
    endpoints: Iterable[WebhookEndpoint], event: str, payload: Mapping[str, Any]
) -> list[WebhookDelivery]:
    now = timezone.now()
    return [
        WebhookDelivery(
            organization_id=e.organization_id,
            endpoint=e,
            event=event,
            payload=dict(payload),
            next_retry_at=now,
        )
        for e in endpoints
    ]


def _deliveries_create(
    endpoints: list[WebhookEndpoint], event: str, payload: Mapping[str, Any]
) -> list[WebhookDelivery]:
    return _deliveries_insert(_delivery_rows(endpoints, event, payload))


def _deliveries_insert(rows: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """Insert in the caller's transaction; enqueued once it commits."""
    created = WebhookDelivery.objects.bulk_create(rows, batch_size=500)
    ids = [d.pk for d in created]
    transaction.on_commit(lambda: _enqueue(ids))
    return created


def webhook_send_test(*, membership: Membership, endpoint: WebhookEndpoint) -> WebhookDelivery:
    permissions.require(membership, Action.WEBHOOK_MANAGE)
    if endpoint.organization_id != membership.organization_id:
        raise NotFound("Webhook endpoint not found.")
    payload = {
        "message": "A test event sent from the webhooks page.",
        "requested_by": Actor.for_principal(membership).label,
    }
    with transaction.atomic():
        (delivery,) = _deliveries_create([endpoint], WebhookEvent.TEST, payload)
    return delivery


def webhooks_emit(
    *, organization: Organization, event: str, payload: Mapping[str, Any]
) -> list[WebhookDelivery]:
    """Record a delivery for each active endpoint subscribed to ``event``; sent after commit.

    Call it inside the transaction of the change that causes the event: if that rolls back,
    nothing is sent.
    """
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    endpoints = [
        e
        for e in WebhookEndpoint.objects.for_org(organization).filter(active=True).order_by("pk")
        if e.subscribes_to(event)
    ]
    if not endpoints:
        return []
    with transaction.atomic():
        return _deliveries_create(endpoints, event, payload)


def webhooks_emit_many(
    *, organization: Organization, events: Iterable[tuple[str, Mapping[str, Any]]]
) -> list[WebhookDelivery]:
    """``webhooks_emit`` for many events at once (an ingestion's changed checks): one query
    for the endpoints and one insert, whatever the number of events. ``events`` may be a
    generator: it is not consumed when no endpoint subscribes to anything."""
    endpoints = list(
        WebhookEndpoint.objects.for_org(organization).filter(active=True).order_by("pk")
    )
    if not endpoints:
        return []
    rows = []
    for event, payload in events:
        if event not in WebhookEvent.values:
            raise ValueError(f"Unknown webhook event {event!r}")
        rows += _delivery_rows([e for e in endpoints if e.subscribes_to(event)], event, payload)
    if not rows:
        return []
    with transaction.atomic():
        return _deliveries_insert(rows)


def endpoints_list(org: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_org(org).order_by("created_at", "pk")


def deliveries_recent(org: Organization, limit: int = RECENT_DELIVERIES) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.for_org(org)
        .select_related("endpoint")
        .order_by("-created_at", "-id")[:limit]
    )


def get_endpoint_for(membership: Membership, pk: int) -> WebhookEndpoint:
    found = WebhookEndpoint.objects.for_org(membership.organization).filter(pk=pk).first()
    if found is None:
        raise Http404("No such webhook endpoint.")
    return found
