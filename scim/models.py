"""SCIM 2.0 provisioning: an organization's tokens, its settings, and what SCIM knows of a
member beyond the membership (the identity provider's ``externalId``).

A SCIM *User* is a non-auditor ``Membership`` of the token's organization (its ``id`` is the
membership's); deactivation is the membership's ``expires_at`` (see ``scim.services``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.models import Membership, Role
from tenants.scoping import TenantModel


class ScimToken(TenantModel):
    """A bearer token an identity provider uses for one organization.

    Offers the principal interface (``role``, ``is_active``, ``user``, ``label``, ``is_api_key``)
    that ``tenants.permissions`` and ``tenants.activity`` read, so the people services accept it
    as the actor of the roster changes it makes. ``is_api_key`` keeps it out of every
    member-management action; its role matters only for the roster (``PEOPLE_MANAGE``).
    The full token is ``<prefix>_<secret>``; only a SHA-256 of the secret is stored.
    """

    is_api_key = True
    role = Role.COMPLIANCE_MANAGER
    kind_label = "SCIM token"  # in messages (``tenants.credentials_sweep``'s e-mail)

    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute (``scim.tokens``), not on every request.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "prefix"], name="scimtoken_prefix"),
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="scimtoken_unique_active_name",
            ),
        ]
        indexes = [models.Index(fields=["organization", "-created_at"], name="scimtoken_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def user(self) -> None:
        return None

    @property
    def label(self) -> str:
        return f"SCIM ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not getattr(self, "creator_lapsed", False)

    @property
    def status(self) -> str:
        """``suspended``: the creator's access ended (``creator_lapsed``, annotated by
        ``scim.tokens``) and the sweep has not revoked it yet."""
        if self.revoked_at is not None:
            return "revoked"
        return "suspended" if getattr(self, "creator_lapsed", False) else "active"


class ProvisionedRole(models.TextChoices):
    """What SCIM may give a new member: never owner or admin."""

    CONTRIBUTOR = Role.CONTRIBUTOR.value, Role.CONTRIBUTOR.label
    COMPLIANCE_MANAGER = Role.COMPLIANCE_MANAGER.value, Role.COMPLIANCE_MANAGER.label


class ProvisioningSettings(TenantModel):
    """One row per organization (created with defaults when the page is first saved)."""

    default_role = models.CharField(
        max_length=32, choices=ProvisionedRole.choices, default=ProvisionedRole.CONTRIBUTOR
    )
    # SCIM users also become the roster's people (start today, end on deactivation), through
    # the people services, so the joiner's and leaver's checklists open.
    manage_personnel = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "provisioning settings"
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="provisioning_one_per_org"),
            models.CheckConstraint(
                condition=models.Q(default_role__in=ProvisionedRole.values),
                name="provisioning_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Provisioning of {self.organization_id}"


class ScimLink(TenantModel):
    """The identity provider's id for a member (``externalId``); created on first SCIM write.

    Also what SCIM itself did, so it only ever undoes its own work: ``created_account`` (this
    organization's SCIM created the user account: only then may it change the account's name
    and address) and ``deactivated_at`` / ``ended_before`` (the ``expires_at`` SCIM's
    deactivation wrote, and the one it replaced: a reactivation restores the latter, and only
    while the membership's end is still the one SCIM wrote).
    """

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="scim_link"
    )
    external_id = models.CharField(max_length=255, blank=True)
    created_account = models.BooleanField(default=False)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    ended_before = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "external_id"], name="scimlink_external")]

    def __str__(self) -> str:
        return f"SCIM link of membership {self.membership_id}"
