"""Input and output serializers of the monitoring API. Credentials are write-only: no
response ever carries them (``has_credentials`` says whether some are set)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitoring.models import (
    Check,
    CheckRun,
    Connection,
    ConnectionKind,
    Finding,
    ResultStatus,
    Schedule,
    Severity,
)
from monitoring.services import MAX_MAPPINGS, MAX_RESULTS
from soc2app.api.serializers import StrictInput

MAX_ID = 2**63 - 1


class ConnectionOut(serializers.ModelSerializer):
    has_credentials = serializers.BooleanField(read_only=True)
    systems = serializers.SerializerMethodField()
    results_url = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "id",
            "kind",
            "name",
            "systems",
            "schedule",
            "enabled",
            "has_credentials",
            "config",
            "next_run_at",
            "created_at",
            "results_url",
        ]
        read_only_fields = fields

    def get_systems(self, connection: Connection) -> list[int]:
        return list(self.context.get("systems", {}).get(connection.pk, []))

    def get_results_url(self, connection: Connection) -> str:
        """Where a custom connection's results are pushed (POST)."""
        slug = self.context["slug"]
        return f"/api/v1/orgs/{slug}/monitoring/connections/{connection.pk}/results/"


class _ConnectionFields(StrictInput):
    name = serializers.CharField(max_length=120)
    systems = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=50,
        required=False,
        default=list,
        help_text="Ids of the systems in scope this connection looks at.",
    )
    credentials = serializers.CharField(
        max_length=8192,
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        help_text="Stored encrypted; never returned. Not needed for kind `custom`.",
    )
    schedule = serializers.ChoiceField(choices=Schedule.choices, default=Schedule.DAILY)
    enabled = serializers.BooleanField(default=True)
    config = serializers.DictField(
        required=False,
        default=dict,
        help_text='The kind\'s settings (not secret), e.g. `{"regions": ["eu-west-1"]}`: '
        "a setting the kind does not have, or a value not allowed, is a 400 naming it "
        "(`config.<name>`). Missing ones take their default.",
    )


class ConnectionIn(_ConnectionFields):
    kind = serializers.ChoiceField(choices=ConnectionKind.choices)


class ConnectionUpdateIn(_ConnectionFields):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():  # a PATCH: every field optional, no defaults
            f.required = False
            f.default = serializers.empty


class CheckSpecIn(StrictInput):
    key = serializers.CharField(max_length=200, help_text="Your stable name of the test.")
    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MEDIUM)
    criteria = serializers.ListField(
        child=serializers.CharField(max_length=12),
        max_length=MAX_MAPPINGS,
        required=False,
        default=list,
        help_text="Trust Services Criteria it tests (`CC6.1`): maps it to their controls.",
    )
    controls = serializers.ListField(
        child=serializers.CharField(max_length=20),
        max_length=MAX_MAPPINGS,
        required=False,
        default=list,
        help_text="Codes of controls it tests; the first one's owner owns its findings.",
    )


class CheckResultIn(StrictInput):
    resource = serializers.CharField(max_length=500, help_text="The resource's stable id.")
    resource_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    status = serializers.ChoiceField(choices=ResultStatus.choices)
    details = serializers.DictField(
        required=False, default=dict, help_text="A JSON object, 8 KB at most."
    )


class PushIn(StrictInput):
    check = CheckSpecIn()
    results = serializers.ListField(
        child=CheckResultIn(), min_length=1, max_length=MAX_RESULTS, help_text="One per resource."
    )


class RunOutput(serializers.Serializer):
    name = serializers.CharField(source="output_name")
    sha256 = serializers.CharField(source="output_sha256")
    size = serializers.IntegerField(source="output_size")


class RunOut(serializers.ModelSerializer):
    connection = serializers.IntegerField(source="connection_id")
    started_by = serializers.CharField(source="started_by_label")
    output = serializers.SerializerMethodField()

    class Meta:
        model = CheckRun
        fields = [
            "id",
            "connection",
            "source",
            "status",
            "created_at",
            "started_at",
            "finished_at",
            "started_by",
            "progress",
            "attempts",
            "passed",
            "failed",
            "errors",
            "failure_reason",
            "output",
        ]
        read_only_fields = fields

    @extend_schema_field(RunOutput(allow_null=True))
    def get_output(self, run: CheckRun) -> dict | None:
        """The raw output stored with the run (download it on the connection's page), or
        null."""
        return RunOutput(run).data if run.output else None


class RunPage(serializers.Serializer):
    """A page of runs (``?page=``, ``?page_size=``), as every list answers."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunOut(many=True)


class RunStartOut(serializers.Serializer):
    run = RunOut()
    started = serializers.BooleanField(
        help_text="False: the connection already had this run queued or running."
    )
    message = serializers.CharField()


class ProbeOut(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


class PushOut(serializers.Serializer):
    run = RunOut()
    findings_opened = serializers.IntegerField(source="opened")
    findings_closed = serializers.IntegerField(source="closed")
    regressions = serializers.IntegerField()


class CheckOut(serializers.ModelSerializer):
    connection = serializers.IntegerField(source="connection_id")
    criteria = serializers.ListField(child=serializers.CharField())
    open_findings = serializers.IntegerField()

    class Meta:
        model = Check
        fields = [
            "id",
            "connection",
            "key",
            "title",
            "severity",
            "criteria",
            "failing",
            "open_findings",
            "last_run_at",
            "created_at",
        ]
        read_only_fields = fields


class FindingOut(serializers.ModelSerializer):
    check = serializers.IntegerField(source="check_ref_id")
    check_key = serializers.CharField(source="check_ref.key")
    owner = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "check",
            "check_key",
            "resource_id",
            "resource_name",
            "state",
            "severity",
            "owner",
            "due_date",
            "opened_at",
            "closed_at",
            "regression",
        ]
        read_only_fields = fields

    def get_owner(self, finding: Finding) -> str | None:
        """The owner's email, or null for nobody."""
        return finding.owner.user.email if finding.owner_id else None
