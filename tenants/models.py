"""Organizations (tenants), who belongs to them, invitations and the activity log."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from tenants.scoping import TenantManager, TenantModel, TenantQuerySet

RESERVED_SLUGS = frozenset(
    {"new", "admin", "api", "accounts", "static", "media", "o", "orgs", "settings", "www"}
)
slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])$",
    "Use 3 to 50 lowercase letters, digits or hyphens, starting and ending with a letter or digit.",
    code="invalid_slug",
)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    COMPLIANCE_MANAGER = "compliance_manager", "Compliance manager"
    CONTRIBUTOR = "contributor", "Contributor"
    AUDITOR = "auditor", "Auditor"


class Organization(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    created_at = models.DateTimeField(default=timezone.now)
    # Two-factor authentication (``tenants.mfa``): for every member, or for auditors only.
    # ``db_default`` too: rows inserted outside the ORM (bulk loads, older code during a
    # rolling deploy) get False rather than a NOT NULL error.
    require_mfa = models.BooleanField(default=False, db_default=False)
    require_mfa_for_auditors = models.BooleanField(default=False, db_default=False)
    # Segregation of duties (``evidence.review``): a version is reviewed by someone other than
    # its uploader. On by default, existing organizations included (``db_default``); only
    # owners turn it off (``tenants.review_policy``).
    require_independent_review = models.BooleanField(default=True, db_default=True)
    # Single sign-on required of its members (a copy of the connection's ``require_sso``,
    # kept by ``sso.services``): read with the membership on every request, so an
    # organization that does not require it costs no query (``sso.middleware``).
    sso_required = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    # Auditors' access ends; other members' does not.
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["organization", "role"], name="membership_org_role")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization_id} as {self.role}"

    @property
    def label(self) -> str:
        """Who this principal is, in the activity log (an API key has its own ``label``)."""
        return self.user.email

    @property
    def is_active(self) -> bool:
        return self.expires_at is None or self.expires_at > timezone.now()


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class Invitation(TenantModel):
    email = models.EmailField()
    role = models.CharField(max_length=32, choices=Role.choices)
    # Only a SHA-256 of the token is kept: a database leak does not hand out invitations.
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    access_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the membership it creates ends (auditors)."
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="invitation_org_status")]

    def __str__(self) -> str:
        return f"Invitation of {self.email} as {self.role}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ActivityEntryQuerySet(TenantQuerySet):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The activity log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The activity log is append-only.")


class ActivityEntryManager(TenantManager.from_queryset(ActivityEntryQuerySet)):  # type: ignore[misc]
    pass


class ActivityEntry(TenantModel):
    """One row per change, written in the same transaction as the change it records."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who acted, as it read at the time (user e-mail, API key name, "system"): survives deletion.
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The hash chain (``tenants.activity``): the previous entry's hash, and this entry's
    # (HMAC-SHA256 with the key ``key_id`` names; "" only on entries of a chain the upgrade to
    # keyed hashes found already broken, which verification reports).
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    entry_hash = models.CharField(max_length=64, blank=True, default="")
    key_id = models.CharField(max_length=12, blank=True, default="")

    objects = ActivityEntryManager()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="activity_org_created"),
            models.Index(
                fields=["organization", "object_type", "object_id"], name="activity_org_object"
            ),
            models.Index(fields=["organization", "id"], name="activity_org_chain"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type} {self.object_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        # An invariant, not business logic: entries are written once and never changed.
        if self.pk is not None and not self._state.adding:
            raise TypeError("The activity log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The activity log is append-only.")


# API keys and webhooks live in their own module; imported here so Django registers them.
from tenants.models_integrations import (  # noqa: E402, F401
    ApiKey,
    ApiKeyRole,
    DeliveryStatus,
    IdempotentRequest,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
