"""Vendors and subprocessors (CC9.2): the inventory, the documents collected from each vendor
(stored like evidence files: SHA-256 and size, never replaced: a new document is a new row),
and the reviews recorded per vendor. How long each document counts is ``vendors.rules``."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import TenantModel


class Criticality(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class DataKind(models.TextChoices):
    CUSTOMER = "customer_data", "Customer data"
    PERSONAL = "personal_data", "Personal data"
    CREDENTIALS = "credentials", "Credentials or secrets"
    FINANCIAL = "financial", "Financial data"
    SOURCE_CODE = "source_code", "Source code"
    INTERNAL = "internal", "Internal documents"


class Vendor(TenantModel):
    name = models.CharField(max_length=200)
    service = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(
        "tenants.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    criticality = models.CharField(
        max_length=8, choices=Criticality.choices, default=Criticality.MEDIUM
    )
    # DataKind values (a list: the kinds of data the vendor touches).
    data_kinds = models.JSONField(default=list, blank=True)
    access = models.CharField(max_length=300, blank=True)
    contract_start = models.DateField(null=True, blank=True)
    contract_end = models.DateField(null=True, blank=True)
    is_subprocessor = models.BooleanField(default=False)
    website = models.URLField(max_length=300, blank=True)
    next_review_date = models.DateField(null=True, blank=True)
    notes = models.TextField(max_length=5000, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the criticality last changed (None: as created). The digest tells a critical vendor
    # without a SOC 2 report once from then (``vendors.digest``), whatever else is edited.
    criticality_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="vendor_name_unique"),
            models.CheckConstraint(
                condition=Q(criticality__in=Criticality.values), name="vendor_criticality_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "owner"], name="vendor_owner"),
            models.Index(fields=["organization", "next_review_date"], name="vendor_review_due"),
        ]

    def __str__(self) -> str:
        return self.name


class DocumentKind(models.TextChoices):
    SOC2_REPORT = "soc2_report", "SOC 2 report"
    BRIDGE_LETTER = "bridge_letter", "Bridge letter"
    DPA = "dpa", "Data processing agreement"
    QUESTIONNAIRE = "questionnaire", "Security questionnaire"
    CERTIFICATE = "certificate", "Certificate"
    OTHER = "other", "Other"


def document_upload_to(instance: VendorDocument, filename: str) -> str:
    # A random key: the uploaded file name never reaches the storage backend.
    return f"vendors/{instance.organization_id}/{uuid.uuid4().hex}"


class VendorDocument(TenantModel):
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    file = models.FileField(upload_to=document_upload_to, max_length=200)
    file_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # SOC 2 report: the end of the period examined; bridge letter: the date it covers up to.
    period_end = models.DateField(null=True, blank=True)
    # Certificate: its stated expiry.
    expires_on = models.DateField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        "tenants.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_by_label = models.CharField(max_length=200, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values), name="vendor_document_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["soc2_report", "bridge_letter"])
                | Q(period_end__isnull=False),
                name="vendor_document_period_end_needed",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "vendor", "kind"], name="vendor_document_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.vendor_id}: {self.file_name}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("A vendor document is never replaced: add a new one.")
        super().save(*args, **kwargs)


class ResidualRisk(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    CONDITIONS = "approve_with_conditions", "Approve with conditions"
    REJECT = "reject", "Reject"


class VendorReview(TenantModel):
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="reviews")
    reviewed_by = models.ForeignKey(
        "tenants.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by_label = models.CharField(max_length=200, blank=True)
    reviewed_on = models.DateField()
    notes = models.TextField(max_length=5000, blank=True)
    residual_risk = models.CharField(max_length=6, choices=ResidualRisk.choices)
    decision = models.CharField(max_length=24, choices=Decision.choices)
    next_review_date = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision__in=Decision.values), name="vendor_review_decision_valid"
            ),
            models.CheckConstraint(
                condition=Q(residual_risk__in=ResidualRisk.values),
                name="vendor_review_risk_valid",
            ),
        ]
        indexes = [models.Index(fields=["organization", "vendor"], name="vendor_review_vendor")]

    def __str__(self) -> str:
        return f"Review of {self.vendor_id} on {self.reviewed_on}"


from vendors.models_rules import VendorRules  # noqa: E402,F401
