"""Single sign-on per organization: one connection to the organization's identity provider
(OpenID Connect or SAML 2.0) and the e-mail domains it covers.

allauth's own ``SocialApp`` table stays empty: ``sso.adapter`` builds an unsaved app from the
organization's connection on every request, so tenant configuration lives in these tenant
tables only (row-level security like every other).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from soc2app.fields import EncryptedTextField
from tenants.scoping import TenantModel


class ConnectionKind(models.TextChoices):
    OIDC = "oidc", "OpenID Connect"
    SAML = "saml", "SAML 2.0"


class SsoConnection(TenantModel):
    """The organization's identity provider. At most one per organization."""

    kind = models.CharField(max_length=8, choices=ConnectionKind.choices)
    # OpenID Connect: the issuer (its discovery document is <issuer>/.well-known/...).
    oidc_issuer = models.URLField(max_length=500, blank=True)
    oidc_client_id = models.CharField(max_length=300, blank=True)
    oidc_client_secret = EncryptedTextField(blank=True, default="")
    # SAML: where the metadata came from (a URL, or pasted XML) and what was read from it.
    # Sign-in uses the parsed values (no fetch at sign-in); saving again re-reads the URL.
    saml_metadata_url = models.URLField(max_length=500, blank=True)
    saml_metadata_xml = models.TextField(blank=True)
    saml_idp_entity_id = models.CharField(max_length=500, blank=True)
    saml_sso_url = models.URLField(max_length=500, blank=True)
    saml_x509cert = models.TextField(blank=True)
    # A successful test sign-in since the configuration last changed; needed to enable.
    tested_at = models.DateTimeField(null=True, blank=True)
    tested_by_label = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=False)
    # Password and TOTP sign-in refused for members (but the break-glass owner).
    require_sso = models.BooleanField(default=False)
    break_glass = models.ForeignKey(
        "tenants.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Unknown people of a verified domain become contributors at their first sign-in.
    allow_jit = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="sso_connection_one_per_org"),
            models.CheckConstraint(
                condition=Q(kind__in=ConnectionKind.values), name="sso_connection_kind_valid"
            ),
            # Enabled implies tested; requiring SSO implies enabled.
            models.CheckConstraint(
                condition=Q(enabled=False) | Q(tested_at__isnull=False),
                name="sso_connection_enabled_tested",
            ),
            models.CheckConstraint(
                condition=Q(require_sso=False) | Q(enabled=True),
                name="sso_connection_required_enabled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} single sign-on"


class VerificationMethod(models.TextChoices):
    DNS = "dns", "DNS TXT record"
    FILE = "file", "HTTPS file"


class SsoDomain(TenantModel):
    """An e-mail domain the organization's identity provider speaks for, once verified."""

    domain = models.CharField(max_length=253)
    # The value to publish (DNS TXT or the well-known file); random per domain and organization.
    token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_method = models.CharField(max_length=8, choices=VerificationMethod.choices, blank=True)
    last_check_error = models.CharField(max_length=300, blank=True)
    # The daily re-check of a verified domain (``sso.recheck``): when it last ran, and how
    # many daily checks in a row found no proof (verification is lost at ``MAX_FAILURES``).
    last_checked_at = models.DateTimeField(null=True, blank=True)
    check_failures = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "domain"], name="sso_domain_unique"),
            # Across organizations on purpose: a domain verified by one organization cannot
            # be verified by another (sign-in routes by domain). Unique indexes hold whatever
            # row-level security hides, so two organizations racing cannot both win.
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(verified_at__isnull=False),
                name="sso_domain_verified_once",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def verified(self) -> bool:
        return self.verified_at is not None
