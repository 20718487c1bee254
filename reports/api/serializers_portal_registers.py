"""Output serializers of the portal's risk-register API (read-only): the risk assessments (the
register and the vendors reuse their apps' serializers)."""

from __future__ import annotations

from rest_framework import serializers

from risks.models import RiskAssessment


class PortalRiskAssessmentOut(serializers.ModelSerializer):
    has_csv = serializers.SerializerMethodField()
    has_pdf = serializers.SerializerMethodField()
    after_period = serializers.BooleanField(
        help_text="Performed after the audit's period end (a Type 2's window end, a Type 1's "
        "as-of date)."
    )

    class Meta:
        model = RiskAssessment
        fields = [
            "id",
            "performed_on",
            "performed_by_label",
            "notes",
            "summary",
            "risk_count",
            "status",
            "next_due",
            "has_csv",
            "csv_sha256",
            "csv_size",
            "has_pdf",
            "pdf_sha256",
            "pdf_size",
            "after_period",
            "created_at",
        ]
        read_only_fields = fields

    def get_has_csv(self, assessment: RiskAssessment) -> bool:
        return bool(assessment.csv_file)

    def get_has_pdf(self, assessment: RiskAssessment) -> bool:
        return bool(assessment.pdf_file)
