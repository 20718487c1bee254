"""Deviations in and out of the API (``controls.deviations``)."""

from __future__ import annotations

from rest_framework import serializers

from controls.models import Deviation
from soc2app.api.serializers import StrictInput


class DeviationOut(serializers.ModelSerializer):
    control = serializers.IntegerField(source="control_id")
    control_code = serializers.CharField(source="control.code")
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = Deviation
        fields = [
            "id",
            "control",
            "control_code",
            "period_start",
            "period_end",
            "what_happened",
            "cause",
            "remediation",
            "remediation_date",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_recorded_by(self, deviation: Deviation) -> str | None:
        """E-mail of the manager who recorded it."""
        return deviation.recorded_by.user.email if deviation.recorded_by_id else None


class DeviationIn(StrictInput):
    control = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    what_happened = serializers.CharField(max_length=4000)
    cause = serializers.CharField(max_length=4000)
    remediation = serializers.CharField(max_length=4000)
    remediation_date = serializers.DateField(allow_null=True, required=False, default=None)
