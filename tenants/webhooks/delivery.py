"""One delivery attempt: claim, sign, POST, record, and schedule the retry.

Idempotent: a delivery is claimed by a conditional UPDATE (pending and due -> sending) and
only the worker whose UPDATE changed the row sends it, so a duplicate task message, or the
sweeper racing the retry, sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from soc2app.crypto import DecryptionError
from soc2app.errors import ValidationFailed
from soc2app.metrics import WEBHOOK_FAILURES
from tenants.context import org_scope
from tenants.models import DeliveryStatus, WebhookDelivery
from tenants.webhooks import net

logger = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=6)
# A "sending" claim older than this belongs to a worker that died; the sweeper may retake it.
STALE_CLAIM = dt.timedelta(minutes=10)
USER_AGENT = "SOC2-Readiness-Webhooks/1"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` (the X-Soc2-Signature value)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt ``attempts + 1``: base, 2x base, 4x base ... at most 6 hours."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return min(dt.timedelta(seconds=seconds), MAX_BACKOFF)


def _claimable(now: dt.datetime) -> models.Q:
    pending_due = models.Q(status=DeliveryStatus.PENDING) & (
        models.Q(next_retry_at__isnull=True) | models.Q(next_retry_at__lte=now)
    )
    abandoned = models.Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
    return pending_due | abandoned


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    # The task carries only the id: its organization is a system lookup; the claim and the
    # rest happen in that organization, on the application's connection.
    org_id = (
        WebhookDelivery.objects.dangerously_unscoped(
            reason="webhook worker: the organization of a delivery by id"
        )
        .filter(pk=delivery_id)
        .values_list("organization_id", flat=True)
        .first()
    )
    if org_id is None:
        return None
    scoped = WebhookDelivery.objects.for_org(org_id)
    claimed = (
        scoped.filter(pk=delivery_id)
        .filter(_claimable(now))
        .update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=models.F("attempts") + 1)
    )
    if not claimed:
        return None
    return scoped.select_related("endpoint", "organization").get(pk=delivery_id)


def _body(delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": str(delivery.uuid),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "organization": delivery.organization.slug,
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def _send(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(status code, error) of one POST; error is empty on a 2xx."""
    endpoint = delivery.endpoint
    if not endpoint.active:
        return None, "The endpoint is disabled."
    try:
        target = net.resolve(endpoint.url)  # checked again now: DNS may have changed
    except ValidationFailed as exc:
        return None, exc.message
    try:
        secret = endpoint.secret.reveal()
    except DecryptionError as exc:  # a key missing from FIELD_ENCRYPTION_KEYS: retried later
        return None, exc.message[:300]
    body = _body(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Soc2-Event": delivery.event,
        "X-Soc2-Delivery": str(delivery.uuid),
        "X-Soc2-Timestamp": timestamp,
        "X-Soc2-Signature": sign(secret, timestamp, body),
    }
    try:
        response = net.post(target, body, headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    except TimeoutError:
        return None, f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s."
    except OSError as exc:  # refused, reset, TLS errors (ssl.SSLError is an OSError)
        return None, f"Connection failed: {exc}"[:300]
    except Exception as exc:  # http.client protocol errors: a broken receiver, not our bug
        return None, f"Invalid HTTP response: {exc.__class__.__name__}"
    if 200 <= response.status < 300:
        return response.status, ""
    return response.status, f"HTTP {response.status}: {response.body[:200]}".strip()


def delivery_attempt(*, delivery_id: int) -> str:
    """Make one attempt at ``delivery_id``; returns what happened (for logs and tests)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    with org_scope(delivery.organization):
        started = time.monotonic()
        status_code, error = _send(delivery)
        now = timezone.now()
        entry = {
            "at": now.isoformat(),
            "status_code": status_code,
            "error": error,
            "ms": int((time.monotonic() - started) * 1000),
        }
        fields: dict = {
            "status_code": status_code,
            "last_error": error[:300],
            "attempt_log": [*delivery.attempt_log, entry],
            "claimed_at": None,
        }
        if not error:
            fields.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, next_retry_at=None)
            outcome = "succeeded"
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS or not delivery.endpoint.active:
            fields.update(status=DeliveryStatus.FAILED, next_retry_at=None)
            outcome = "failed"
        else:
            wait = backoff(delivery.attempts)
            fields.update(status=DeliveryStatus.PENDING, next_retry_at=now + wait)
            outcome = "retry"
        with transaction.atomic():
            WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
                **fields
            )
            if outcome == "retry":
                transaction.on_commit(lambda: _schedule_retry(delivery.pk, wait))
    if outcome != "succeeded":
        WEBHOOK_FAILURES.labels(delivery.event, str(outcome == "failed").lower()).inc()
    logger.info(
        "webhook %s %s to endpoint %s: attempt %d %s %s",
        delivery.event,
        delivery.uuid,
        delivery.endpoint_id,
        delivery.attempts,
        outcome,
        error,
    )
    return outcome


def _schedule_retry(delivery_id: int, wait: dt.timedelta) -> bool:
    """Enqueue the retry with a countdown, unless the wait is too long for the broker: Redis
    hands an unacknowledged message (a countdown task waits unacknowledged in a worker) to
    another worker after its visibility timeout, so a countdown longer than half of it would
    be delivered again and again until due. Such a retry is left to ``retry_due_deliveries``
    (every minute), which sends it when ``next_retry_at`` comes. Returns whether it was sent."""
    from tenants.webhooks.tasks import deliver_webhook

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    visibility = options.get("visibility_timeout")
    if visibility and wait.total_seconds() > visibility / 2:
        logger.debug("webhook delivery %s: retry in %s left to the sweeper", delivery_id, wait)
        return False
    deliver_webhook.apply_async(args=[delivery_id], countdown=int(wait.total_seconds()))
    return True


def due_delivery_ids(limit: int = 500) -> list[int]:
    """Deliveries whose retry is due (a lost task message, a restarted worker)."""
    return list(
        WebhookDelivery.objects.dangerously_unscoped(
            reason="webhook sweeper: due retries of every organization"
        )
        .filter(_claimable(timezone.now()))
        .order_by("next_retry_at")
        .values_list("pk", flat=True)[:limit]
    )
