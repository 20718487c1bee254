"""Input and output serializers of evidence. File bytes never appear in a response: a file
version carries ``download_url``, the browser download view (membership checked, sent as an
attachment, the download recorded in the activity log). ``scan_state`` says whether a file is
held for its malware scan or quarantined; such a version has no ``download_url``."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evidence.models import EvidenceItem, EvidenceKind, EvidenceVersion, ReviewState
from soc2app.api.serializers import StrictInput


class VersionOut(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by_label")
    reviewed_by = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    # A plain string, not format "uri": it is empty for file and data versions.
    url = serializers.CharField(
        read_only=True, help_text="Link versions: where the evidence lives; empty otherwise."
    )

    class Meta:
        model = EvidenceVersion
        fields = [
            "id",
            "number",
            "kind",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "url",
            "effective_start",
            "effective_end",
            "valid_until",
            "freshness",
            "review_state",
            "review_comment",
            "reviewed_by",
            "failure",
            "scan_state",
            "reviewed_at",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "sha256": {
                "help_text": "SHA-256 of the file, the link or the canonical JSON; "
                "system-generated versions: of the raw output they summarize."
            },
            "failure": {
                "help_text": "System-generated versions: what failed (tests and resources); "
                "empty otherwise."
            },
        }

    def get_reviewed_by(self, version: EvidenceVersion) -> str | None:
        """The reviewer's e-mail, or what accepted it automatically ("Integration: <name>")."""
        if version.reviewed_by_id:
            return version.reviewed_by.email
        return version.reviewed_by_label or None

    def get_download_url(self, version: EvidenceVersion) -> str | None:
        """File versions: where to download the file (sent as an attachment); none while the
        file waits for its malware scan or after it was quarantined."""
        if version.kind != EvidenceKind.FILE or not version.is_deliverable:
            return None
        path = reverse(
            "evidence_download",
            kwargs={"org_slug": self.context["organization"].slug, "pk": version.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class VersionDetailOut(VersionOut):
    item = serializers.IntegerField(source="item_id")
    item_title = serializers.CharField(source="item.title")
    control = serializers.IntegerField(source="item.control_id")
    data = serializers.SerializerMethodField()

    class Meta(VersionOut.Meta):
        fields = ["item", "item_title", "control", *VersionOut.Meta.fields, "data"]
        read_only_fields = fields

    @extend_schema_field(
        serializers.JSONField(allow_null=True, help_text="Data versions: the pushed record.")
    )
    def get_data(self, version: EvidenceVersion) -> object:
        # Never the content of a version withheld by the malware scan (``is_deliverable``).
        return version.data if version.is_deliverable else None


class VersionCreatedOut(VersionDetailOut):
    warnings = serializers.ListField(
        child=serializers.CharField(),
        source="span_warnings",
        help_text="What to know about the new version without refusing it: a manual "
        "control's evidence spanning several periods of a Type 2 audit counts for one.",
    )

    class Meta(VersionDetailOut.Meta):
        fields = [*VersionDetailOut.Meta.fields, "warnings"]
        read_only_fields = fields


class ItemOut(serializers.ModelSerializer):
    versions = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceItem
        fields = ["id", "title", "description", "created_at", "versions"]
        read_only_fields = fields

    @extend_schema_field(VersionOut(many=True))
    def get_versions(self, item: EvidenceItem) -> list[dict]:
        """Every version, newest first."""
        return VersionOut(item.version_list, many=True, context=self.context).data


class _SubmitIn(StrictInput):
    effective_start = serializers.DateField(
        help_text="The day (or first day) the evidence demonstrates; not the upload day."
    )
    effective_end = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Last day, for a period."
    )
    item = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=2**63 - 1,
        help_text="Add a new version to this evidence item of the control; omit for a new item.",
    )
    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="For a new item."
    )
    description = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )


class FileIn(_SubmitIn):
    kind = serializers.ChoiceField(choices=[EvidenceKind.FILE.value], required=False)
    file = serializers.FileField(allow_empty_file=True, help_text="The evidence file.")


class LinkIn(_SubmitIn):
    kind = serializers.ChoiceField(choices=[EvidenceKind.LINK.value])
    url = serializers.CharField(max_length=2100, help_text="An http:// or https:// address.")


class DataIn(_SubmitIn):
    kind = serializers.ChoiceField(choices=[EvidenceKind.DATA.value])
    data = serializers.JSONField(help_text="A non-empty JSON object or array (a check result).")


class ReviewIn(StrictInput):
    decision = serializers.ChoiceField(
        choices=[ReviewState.ACCEPTED.value, ReviewState.REJECTED.value]
    )
    comment = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to reject: say what to fix.",
    )
