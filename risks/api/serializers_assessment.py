"""Input and output serializers of the risk assessments API."""

from __future__ import annotations

from rest_framework import serializers

from risks.models import RiskAssessment
from soc2app.api.serializers import StrictInput


class AssessmentIn(StrictInput):
    performed_on = serializers.DateField(
        required=False, help_text="The day of the assessment (default: today)."
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class FrozenRiskOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The risk's id when frozen (it may be gone since).")
    title = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    owner = serializers.CharField(help_text="The owner's e-mail, blank for none.")
    systems = serializers.ListField(child=serializers.CharField())
    inherent_likelihood = serializers.IntegerField()
    inherent_impact = serializers.IntegerField()
    inherent_score = serializers.IntegerField()
    inherent_level = serializers.CharField()
    residual_likelihood = serializers.IntegerField()
    residual_impact = serializers.IntegerField()
    residual_score = serializers.IntegerField()
    residual_level = serializers.CharField()
    treatment = serializers.CharField()
    treatment_label = serializers.CharField()
    accepted_by = serializers.CharField()
    accepted_reason = serializers.CharField()
    accepted_until = serializers.DateField(allow_null=True)
    acceptance_expired = serializers.BooleanField()
    controls = serializers.ListField(child=serializers.CharField(), help_text="Control codes.")
    next_review_date = serializers.DateField(allow_null=True)
    review_overdue = serializers.BooleanField()


class AssessmentOut(serializers.ModelSerializer):
    summary = serializers.JSONField(
        help_text="Counts per level (inherent, residual), per treatment, acceptances expired, "
        "reviews overdue, and the matrix the levels were read on."
    )

    class Meta:
        model = RiskAssessment
        fields = [
            "id",
            "performed_on",
            "performed_by_label",
            "risk_count",
            "summary",
            "next_due",
            "csv_sha256",
            "csv_size",
            "status",
            "pdf_sha256",
            "pdf_size",
            "error",
            "created_at",
        ]


class AssessmentDetailOut(AssessmentOut):
    rows = FrozenRiskOut(many=True, help_text="The register as frozen, highest residual first.")

    class Meta(AssessmentOut.Meta):
        fields = [*AssessmentOut.Meta.fields, "notes", "rows"]
