"""Input and output serializers of an audit's reports. The file itself is never in a body:
a finished report carries ``download_url``, the API download (sent as an attachment, the
download recorded in the activity log)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports.models import Report, ReportKind, ReportStatus
from soc2app.api.serializers import StrictInput
from soc2app.api.tenancy import ORG_SLUG_KWARG

KINDS_HELP = "; ".join(f"`{value}`: {label}" for value, label in ReportKind.choices) + "."


class ReportIn(StrictInput):
    kind = serializers.ChoiceField(
        choices=ReportKind.choices,
        help_text=f"What to produce. {KINDS_HELP}",
        error_messages={
            "invalid_choice": f"Unknown kind {{input!r}}; choose one of "
            f"{', '.join(ReportKind.values)}."
        },
    )


class ReportOut(serializers.ModelSerializer):
    audit = serializers.IntegerField(source="audit_id", help_text="The audit's id.")
    kind = serializers.ChoiceField(choices=ReportKind.choices, help_text=KINDS_HELP)
    status = serializers.ChoiceField(
        choices=ReportStatus.choices,
        help_text="`queued` → `running` → `done` or `failed`; poll this report until it is "
        "`done` (then download it) or `failed` (then `error` says why).",
    )
    progress = serializers.IntegerField(help_text="Per cent done, 0 to 100.")
    error = serializers.CharField(
        help_text="Why it failed, or why it is still queued (the task queue was unreachable: "
        "it is sent again within minutes). Empty otherwise."
    )
    sha256 = serializers.CharField(
        help_text="SHA-256 of the file (hex), once done: compare it with what you downloaded."
    )
    size = serializers.IntegerField(help_text="Size of the file in bytes, once done.")
    pages = serializers.IntegerField(
        allow_null=True, help_text="Pages of a PDF, once done; null for other kinds."
    )
    content_type = serializers.CharField(help_text="Content type of the file.")
    requested_by = serializers.CharField(
        source="requested_by_label", help_text="Who asked for it (a person or an API key)."
    )
    catalog_version = serializers.CharField(help_text="The framework version it was built from.")
    data_as_of = serializers.DateTimeField(
        allow_null=True, help_text="The newest change among the rows it was built from."
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "audit",
            "kind",
            "status",
            "progress",
            "error",
            "sha256",
            "size",
            "pages",
            "content_type",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "catalog_version",
            "data_as_of",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download_url(self, report: Report) -> str | None:
        """Where to download the file, once the report is done; null before."""
        if report.status != ReportStatus.DONE:
            return None
        path = reverse(
            "report-download",
            kwargs={ORG_SLUG_KWARG: self.context["organization"].slug, "pk": report.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path
