"""Input and output serializers of systems, audits and the self-assessment."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controls.models import Answer, Audit, AuditStatus, AuditType, System
from soc2app.api.serializers import OwnerField, StrictInput


class SystemOut(serializers.ModelSerializer):
    owner_email = serializers.SerializerMethodField()
    components = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = System
        fields = ["id", "name", "description", "owner", "owner_email", "components", "created_at"]
        read_only_fields = fields

    def get_owner_email(self, system: System) -> str | None:
        return system.owner.user.email if system.owner_id else None


class SystemIn(StrictInput):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    owner = OwnerField(required=False, default=None)
    components = serializers.ListField(
        child=serializers.CharField(max_length=120, allow_blank=True),
        max_length=100,
        required=False,
        default=list,
        help_text="Names of the system's components (at most 100).",
    )


class SystemUpdateIn(SystemIn):
    """Only the fields sent change."""

    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    owner = OwnerField(required=False)
    components = serializers.ListField(
        child=serializers.CharField(max_length=120, allow_blank=True),
        max_length=100,
        required=False,
    )


class SystemRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AuditOut(serializers.ModelSerializer):
    framework = serializers.CharField(source="framework.key")
    categories = serializers.SerializerMethodField()
    systems = serializers.SerializerMethodField()

    class Meta:
        model = Audit
        fields = [
            "id",
            "name",
            "audit_type",
            "framework",
            "as_of_date",
            "window_start",
            "window_end",
            "status",
            "cpa_firm",
            "fieldwork_start",
            "fieldwork_end",
            "categories",
            "systems",
            "created_at",
        ]
        read_only_fields = fields

    def get_categories(self, audit: Audit) -> list[str]:
        """Keys of the Trust Services Categories in scope (Security always among them)."""
        links = sorted(audit.scope_categories.all(), key=lambda link: link.category.position)
        return [link.category.key for link in links]

    @extend_schema_field(SystemRef(many=True))
    def get_systems(self, audit: Audit) -> list[dict]:
        links = sorted(audit.scope_systems.all(), key=lambda link: link.system.name)
        return [{"id": link.system_id, "name": link.system.name} for link in links]


_DATE_HELP = {
    "as_of_date": "Type 1: the date the design is assessed at.",
    "window_start": "Type 2: first day of the observation window (3 to 12 months).",
    "window_end": "Type 2: last day of the observation window.",
}


class AuditIn(StrictInput):
    name = serializers.CharField(max_length=120)
    audit_type = serializers.ChoiceField(choices=AuditType.choices)
    as_of_date = serializers.DateField(
        allow_null=True, required=False, help_text=_DATE_HELP["as_of_date"]
    )
    window_start = serializers.DateField(
        allow_null=True, required=False, help_text=_DATE_HELP["window_start"]
    )
    window_end = serializers.DateField(
        allow_null=True, required=False, help_text=_DATE_HELP["window_end"]
    )
    status = serializers.ChoiceField(choices=AuditStatus.choices, required=False)
    cpa_firm = serializers.CharField(max_length=160, allow_blank=True, required=False)
    fieldwork_start = serializers.DateField(allow_null=True, required=False)
    fieldwork_end = serializers.DateField(allow_null=True, required=False)
    categories = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=20,
        required=False,
        help_text='Category keys in scope, e.g. ["availability"]; security is always in.',
    )
    systems = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=500,
        required=False,
        help_text="Ids of the organization's systems in scope.",
    )


class AuditUpdateIn(AuditIn):
    """Only the fields sent change; categories and systems, when sent, replace the scope."""

    name = serializers.CharField(max_length=120, required=False)
    audit_type = serializers.ChoiceField(choices=AuditType.choices, required=False)


class AnswerIn(StrictInput):
    criterion = serializers.CharField(max_length=12, help_text="A criterion in scope, e.g. CC1.1.")
    answer = serializers.ChoiceField(choices=Answer.choices)
    notes = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=10_000,
        help_text="Required when the answer is not_applicable.",
    )


class SelfAssessmentIn(StrictInput):
    answers = serializers.ListField(child=AnswerIn(), min_length=1, max_length=200)

    def validate_answers(self, answers: list[dict]) -> list[dict]:
        refs = [a["criterion"].strip().upper() for a in answers]
        repeated = sorted({r for r in refs if refs.count(r) > 1})
        if repeated:
            raise serializers.ValidationError(f"Answer each criterion once: {', '.join(repeated)}.")
        return answers


class AnswerOut(serializers.Serializer):
    criterion = serializers.CharField(help_text="Criterion reference, e.g. CC1.1.")
    title = serializers.CharField()
    category = serializers.CharField(help_text="Category key.")
    answer = serializers.ChoiceField(choices=Answer.choices, allow_null=True)
    notes = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)


class SelfAssessmentOut(serializers.Serializer):
    answered = serializers.IntegerField(help_text="Criteria in scope that have an answer.")
    total = serializers.IntegerField(help_text="Criteria in scope.")
    changed = serializers.IntegerField(
        required=False, help_text="PUT only: how many answers this request changed."
    )
    answers = AnswerOut(many=True)
