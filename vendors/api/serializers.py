"""Input and output serializers of the vendor API."""

from __future__ import annotations

from rest_framework import serializers

from soc2app.api.imports import import_errors_field
from soc2app.api.serializers import OwnerField, StrictInput
from vendors.imports import COLUMNS
from vendors.models import (
    Criticality,
    DataKind,
    Decision,
    DocumentKind,
    ResidualRisk,
    Vendor,
    VendorDocument,
    VendorReview,
)
from vendors.models_rules import RANGES, VendorRules
from vendors.selectors import STATUS_ORDER
from vendors.services_rules import LABELS


class VendorOut(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_id", allow_null=True, read_only=True)
    owner_email = serializers.SerializerMethodField()
    document_status = serializers.ChoiceField(
        choices=STATUS_ORDER, read_only=True, help_text="The worst of its documents' statuses."
    )
    review_overdue = serializers.BooleanField(read_only=True)
    # A plain string: empty when none was given, which a "uri" format would not admit.
    website = serializers.CharField(read_only=True, help_text="An http(s) URL, or empty.")

    class Meta:
        model = Vendor
        fields = [
            "id",
            "name",
            "service",
            "owner",
            "owner_email",
            "criticality",
            "data_kinds",
            "access",
            "contract_start",
            "contract_end",
            "is_subprocessor",
            "website",
            "next_review_date",
            "notes",
            "document_status",
            "review_overdue",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_owner_email(self, vendor: Vendor) -> str | None:
        return vendor.owner.user.email if vendor.owner_id else None


class _VendorFields(StrictInput):
    service = serializers.CharField(max_length=300, required=False, allow_blank=True)
    owner = OwnerField(required=False)
    criticality = serializers.ChoiceField(choices=Criticality.choices, required=False)
    data_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=DataKind.choices), required=False, max_length=20
    )
    access = serializers.CharField(max_length=300, required=False, allow_blank=True)
    contract_start = serializers.DateField(required=False, allow_null=True)
    contract_end = serializers.DateField(required=False, allow_null=True)
    is_subprocessor = serializers.BooleanField(required=False)
    website = serializers.URLField(max_length=300, required=False, allow_blank=True)
    next_review_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class VendorIn(_VendorFields):
    name = serializers.CharField(max_length=200)


class VendorPatchIn(_VendorFields):
    name = serializers.CharField(max_length=200, required=False)


class VendorFilterIn(serializers.Serializer):
    criticality = serializers.ChoiceField(choices=Criticality.choices, required=False)
    subprocessor = serializers.BooleanField(required=False, allow_null=True, default=None)
    attention = serializers.ChoiceField(
        choices=["stale", "overdue"],
        required=False,
        help_text="stale: stale documents or a critical vendor's SOC 2 report missing; "
        "overdue: review date passed.",
    )


class VendorDocumentOut(serializers.ModelSerializer):
    valid_until = serializers.DateField(allow_null=True, read_only=True)
    status = serializers.ChoiceField(
        choices=["current", "expiring", "stale", "superseded"], read_only=True
    )

    class Meta:
        model = VendorDocument
        fields = [
            "id",
            "kind",
            "file_name",
            "content_type",
            "size",
            "sha256",
            "period_end",
            "expires_on",
            "valid_until",
            "status",
            "uploaded_by_label",
            "uploaded_at",
        ]
        read_only_fields = fields


class VendorDocumentIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField()
    period_end = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="SOC 2 report: end of the period examined; bridge letter: the date it covers "
        "up to (both required).",
    )
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text="Certificate: its stated expiry."
    )


class VendorReviewOut(serializers.ModelSerializer):
    class Meta:
        model = VendorReview
        fields = [
            "id",
            "reviewed_on",
            "reviewed_by_label",
            "residual_risk",
            "decision",
            "notes",
            "next_review_date",
            "created_at",
        ]
        read_only_fields = fields


class VendorReviewIn(StrictInput):
    reviewed_on = serializers.DateField()
    residual_risk = serializers.ChoiceField(choices=ResidualRisk.choices)
    decision = serializers.ChoiceField(choices=Decision.choices)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class VendorRulesOut(serializers.ModelSerializer):
    class Meta:
        model = VendorRules
        fields = [*RANGES, "updated_at"]
        read_only_fields = fields


def _rule(name: str) -> serializers.IntegerField:
    low, high = RANGES[name]
    return serializers.IntegerField(required=False, help_text=f"{LABELS[name]}: {low} to {high}.")


class VendorRulesIn(StrictInput):
    """A change of the organization's rules: any of the fields."""

    soc2_months = _rule("soc2_months")
    bridge_months = _rule("bridge_months")
    questionnaire_months = _rule("questionnaire_months")
    expiring_days = _rule("expiring_days")
    review_months_critical = _rule("review_months_critical")
    review_months_high = _rule("review_months_high")
    review_months_medium = _rule("review_months_medium")
    review_months_low = _rule("review_months_low")


class VendorImportIn(serializers.Serializer):
    file = serializers.FileField(help_text="CSV, UTF-8, header: " + ", ".join(COLUMNS) + ".")
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Check the file and say what it would do."
    )


class VendorImportRowOut(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line of the file (the header is row 1).")
    name = serializers.CharField()
    result = serializers.ChoiceField(choices=["new", "update", "unchanged"])
    vendor = serializers.IntegerField(
        allow_null=True, help_text="The vendor updated (or, once imported, created)."
    )
    changed = serializers.ListField(
        child=serializers.CharField(), help_text="The columns an update changes."
    )


class VendorImportOut(serializers.Serializer):
    dry_run = serializers.BooleanField()
    ok = serializers.BooleanField(help_text="False when any row is refused: nothing was written.")
    sha256 = serializers.CharField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rows = VendorImportRowOut(many=True)
    error_count = serializers.IntegerField()
    errors = import_errors_field()
