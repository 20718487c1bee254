"""What integrations use: API keys (a principal of one organization) and outgoing webhooks.

Imported by ``tenants.models`` so Django sees these models as part of the ``tenants`` app.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from soc2app.fields import EncryptedTextField
from tenants.scoping import TenantModel


class ApiKeyRole(models.TextChoices):
    READ_ONLY = "read_only", "Read only"
    CONTRIBUTOR = "contributor", "Contributor"
    COMPLIANCE_MANAGER = "compliance_manager", "Compliance manager"
    ADMIN = "admin", "Admin"


class ApiKey(TenantModel):
    """A bearer credential of one organization with a role.

    Offers the principal interface that ``tenants.permissions`` and ``tenants.activity`` read
    (``role``, ``is_active``, ``user``, ``label``), like a ``Membership`` does.
    The full key is ``<prefix>_<secret>``; only a SHA-256 of the secret is stored.
    """

    is_api_key = True
    kind_label = "API key"  # in messages (the sweep's e-mail)

    name = models.CharField(max_length=80)
    role = models.CharField(max_length=32, choices=ApiKeyRole.choices)
    # Public and shown in lists, so people can tell keys apart: "sk_" + 8 characters.
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute (see tenants.apikeys), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "prefix"], name="apikey_unique_prefix"),
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="apikey_unique_active_name",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=ApiKeyRole.values), name="apikey_role_valid"
            ),
        ]
        indexes = [
            # Authentication looks a key up by its prefix before knowing the organization.
            models.Index(fields=["prefix"], name="apikey_prefix"),
            models.Index(fields=["organization", "-created_at"], name="apikey_org_created"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    # --- the principal interface ------------------------------------------------------------
    @property
    def user(self) -> None:
        return None

    @property
    def label(self) -> str:
        return f"API key {self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        lapsed = getattr(self, "creator_lapsed", False)
        return self.revoked_at is None and not self.is_expired and not lapsed

    @property
    def status(self) -> str:
        """``suspended``: the creator's access ended (``creator_lapsed``, annotated by the
        queries that read it: ``tenants.standing``) and the sweep has not revoked it yet."""
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "suspended" if getattr(self, "creator_lapsed", False) else "active"


class WebhookEvent(models.TextChoices):
    EVIDENCE_STALE = "evidence.stale", "Evidence went stale"
    EVIDENCE_EXPIRING = "evidence.expiring", "Evidence is expiring"
    REPORT_READY = "report.ready", "A report is ready"
    CHECK_FAILED = "check.failed", "A monitoring test started failing"
    CHECK_RECOVERED = "check.recovered", "A monitoring test passes again"
    FINDING_OVERDUE = "finding.overdue", "Monitoring findings are overdue"
    TEST = "webhook.test", "Test event"


class WebhookEndpoint(TenantModel):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=120, blank=True)
    # Signing needs the secret itself, so it is encrypted, not hashed (``.reveal()`` to sign).
    # Shown to the user once, at creation.
    secret = EncryptedTextField()
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "url"], name="webhook_unique_url"),
        ]
        indexes = [models.Index(fields=["organization", "active"], name="webhook_org_active")]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event: str) -> bool:
        return event in (self.events or [])


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(TenantModel):
    """One event for one endpoint, and every attempt to deliver it."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # Sent as X-Soc2-Delivery: receivers use it to drop duplicates.
    uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # One entry per attempt: {"at", "status_code", "error", "ms"}.
    attempt_log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "uuid"], name="delivery_unique_uuid"),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="delivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "endpoint", "-created_at"], name="delivery_org_endpoint"
            ),
            # The sweeper finds due retries across organizations.
            models.Index(fields=["status", "next_retry_at"], name="delivery_due"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id} ({self.status})"


class IdempotentRequest(TenantModel):
    """The first successful answer to an API POST sent with an ``Idempotency-Key`` header.

    Written in the same transaction as the write it answers (``soc2app.api.idempotency``), so
    a key is remembered exactly when its write committed; a retry with the key gets this
    answer back instead of writing twice. Kept ``IDEMPOTENCY_KEY_HOURS``, then swept.
    """

    key = models.CharField(max_length=255)
    # Who sent it ("key:<id>" or "member:<id>"): another caller's same key is a 409, never
    # their answer.
    principal = models.CharField(max_length=40)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    # SHA-256 of the request body in canonical form: the same key with another body is a 409.
    body_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The JSON as text, not jsonb: a replay sends the keys in the first answer's order.
    response_body = models.TextField(blank=True)  # empty: no body (a 204)
    # Only the headers a client acts on (``Location``); the rest are the server's own.
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="idempotency_unique_key"),
        ]
        # The beat sweep deletes expired rows across organizations.
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expires")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
