"""The public trust center of an organization (opt-in): what it chose to publish and the
requests visitors make for its private documents.

``TrustCenter`` holds the settings (one per organization); ``TrustControl`` the controls
chosen for the page; ``TrustDocument`` a document offered (an uploaded file, or an approved
policy version), public or private; ``TrustRequest`` a visitor's request for a private
document, with the NDA they accepted (its text and SHA-256, time, address, browser) and, once
approved, the personal download link (only its SHA-256 is stored)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import TenantModel


class TrustCenter(TenantModel):
    published = models.BooleanField(default=False)
    # Global: the public address is /trust/<slug>/ whatever the organization (a key like the
    # organization's own slug, so its unique constraint cannot include the organization).
    slug = models.SlugField(max_length=50)
    custom_domain = models.CharField(max_length=253, blank=True)
    # The custom domain is served only once verified: a TXT record
    # ``_soc2app-trust.<domain>`` = ``soc2app-trust=<domain_token>`` (``trust.domains``).
    # A changed domain is unverified again.
    domain_token = models.CharField(max_length=64, blank=True)
    domain_verified_at = models.DateTimeField(null=True, blank=True)
    # The daily re-check of a verified domain (``trust.recheck``): when it last ran, how many
    # daily checks in a row found no record (verification is lost at ``MAX_FAILURES``), why.
    domain_checked_at = models.DateTimeField(null=True, blank=True)
    domain_check_failures = models.PositiveSmallIntegerField(default=0)
    domain_check_error = models.CharField(max_length=300, blank=True)
    headline = models.CharField(max_length=200, blank=True)
    intro = models.TextField(max_length=2000, blank=True)
    audit = models.ForeignKey(
        "controls.Audit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    show_categories = models.BooleanField(default=True)
    show_subprocessors = models.BooleanField(default=False)
    nda_text = models.TextField(max_length=20000, blank=True)
    # Lower-case e-mail domains whose requests are approved at once.
    allowed_domains = models.JSONField(default=list, blank=True)
    # Bumped on every change of what the page shows: the cache key of the rendered page.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "trust center"
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="trust_center_one_per_org"),
            models.UniqueConstraint(fields=["slug"], name="trust_center_slug_unique"),
            # Across organizations on purpose, but only once verified: claiming a domain
            # cannot block the organization that owns it; the first to prove it wins. Unique
            # indexes hold whatever row-level security hides, so a race has one winner.
            models.UniqueConstraint(
                fields=["custom_domain"],
                condition=~Q(custom_domain="") & Q(domain_verified_at__isnull=False),
                name="trust_center_domain_verified_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Trust center {self.slug}"


class TrustControl(TenantModel):
    control = models.ForeignKey("controls.Control", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "control"], name="trust_control_unique")
        ]

    def __str__(self) -> str:
        return f"Published control {self.control_id}"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: anyone downloads it"
    PRIVATE = "private", "Private: on request, after the NDA"


def document_upload_to(instance: TrustDocument, filename: str) -> str:
    # A random key: the uploaded file name never reaches the storage backend.
    return f"trust/{instance.organization_id}/{uuid.uuid4().hex}"


class TrustDocument(TenantModel):
    """An uploaded file (``file``) or an approved policy version (``policy_version``)."""

    title = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    visibility = models.CharField(max_length=8, choices=Visibility.choices)
    file = models.FileField(upload_to=document_upload_to, max_length=200, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    policy_version = models.ForeignKey(
        "policies.PolicyVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Withdrawn: off the page and its links dead, kept for the requests that name it.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "trust center document"
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values), name="trust_document_visibility"
            ),
            # Exactly one source: a file or a policy version.
            models.CheckConstraint(
                condition=(Q(policy_version__isnull=True) & ~Q(file=""))
                | (Q(policy_version__isnull=False) & Q(file="")),
                name="trust_document_one_source",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_pdf(self) -> bool:
        return self.policy_version_id is not None or self.content_type == "application/pdf"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"


class TrustRequest(TenantModel):
    document = models.ForeignKey(TrustDocument, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    company = models.CharField(max_length=200)
    # The NDA as shown and accepted: its text, SHA-256, when, from where, with what browser.
    nda_text = models.TextField(max_length=20000)
    nda_sha256 = models.CharField(max_length=64)
    nda_accepted_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=8, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    auto_approved = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        "tenants.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by_label = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # The personal download link (approved requests): its token's SHA-256, expiry and uses.
    token_sha256 = models.CharField(max_length=64, blank=True)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "trust center request"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="trust_request_status"
            ),
            models.UniqueConstraint(
                fields=["organization", "token_sha256"],
                condition=~Q(token_sha256=""),
                name="trust_request_token_unique",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="trust_request_by_status")]

    def __str__(self) -> str:
        return f"Request of {self.email} for {self.document_id}"
