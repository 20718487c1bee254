"""Input and output serializers of the policies API."""

from __future__ import annotations

from rest_framework import serializers

from policies.markdown import MAX_BODY
from policies.models import Policy, PolicyVersion
from soc2app.api.serializers import OwnerField, StrictInput


class PolicyVersionOut(serializers.ModelSerializer):
    class Meta:
        model = PolicyVersion
        fields = [
            "number",
            "state",
            "body",
            "change_note",
            "edited_by_label",
            "created_at",
            "submitted_at",
            "return_note",
            "sha256",
            "approved_by_label",
            "approved_at",
        ]


class PolicyOut(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    approver = serializers.IntegerField(source="approver_id", allow_null=True)
    current_version = serializers.IntegerField(source="current_number", allow_null=True)
    open_version = serializers.IntegerField(source="open_number", allow_null=True)
    open_state = serializers.CharField(allow_null=True)

    class Meta:
        model = Policy
        fields = [
            "id",
            "title",
            "summary",
            "library_key",
            "owner",
            "approver",
            "review_cadence_months",
            "next_review_date",
            "criteria",
            "current_version",
            "open_version",
            "open_state",
            "created_at",
        ]


class LibraryOut(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    version = serializers.CharField()
    review_cadence_months = serializers.IntegerField()
    criteria = serializers.ListField(child=serializers.CharField())
    controls = serializers.ListField(child=serializers.CharField())
    adopted_policy = serializers.IntegerField(allow_null=True)


class PolicyIn(StrictInput):
    """Adopt a library policy (``library_key``) or write one (``title`` and ``body``)."""

    library_key = serializers.CharField(max_length=80, required=False)
    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(max_length=300, required=False, allow_blank=True)
    body = serializers.CharField(max_length=MAX_BODY, required=False, trim_whitespace=False)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("library_key")) == bool(attrs.get("title") or attrs.get("body")):
            raise serializers.ValidationError(
                "Send either library_key (adopt) or title and body (write a policy)."
            )
        if not attrs.get("library_key") and not (attrs.get("title") and attrs.get("body")):
            raise serializers.ValidationError("A policy written from scratch needs title and body.")
        return attrs


class SettingsIn(StrictInput):
    owner = OwnerField(required=False)
    approver = OwnerField(required=False, help_text="Id of the member who approves versions.")
    review_cadence_months = serializers.IntegerField(min_value=1, max_value=36, required=False)


class DraftIn(StrictInput):
    body = serializers.CharField(max_length=MAX_BODY, trim_whitespace=False)
    change_note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ReturnIn(StrictInput):
    note = serializers.CharField(max_length=2000)
