"""Output serializers of the auditor portal's people-and-policies API (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from people.models import Checklist, ChecklistItem, Person
from policies.models import Acceptance, PolicyVersion
from training.models import TrainingCompletion, TrainingRequirement


class PortalPersonOut(serializers.Serializer):
    """A person as the records name them; an anonymised person has no name or address left."""

    id = serializers.IntegerField()
    full_name = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    anonymised = serializers.SerializerMethodField()

    def get_full_name(self, person: Person) -> str:
        return "" if person.anonymised_at else person.full_name

    def get_email(self, person: Person) -> str:
        return "" if person.anonymised_at else person.email

    def get_anonymised(self, person: Person) -> bool:
        return person.anonymised_at is not None


class PortalPolicyVersionOut(serializers.ModelSerializer):
    policy = serializers.IntegerField(source="policy_id")
    policy_title = serializers.CharField(source="policy.title")
    acceptance_count = serializers.IntegerField()

    class Meta:
        model = PolicyVersion
        fields = [
            "id",
            "policy",
            "policy_title",
            "number",
            "approved_at",
            "approved_by_label",
            "sha256",
            "change_note",
            "acceptance_count",
        ]
        read_only_fields = fields


class PortalPolicyVersionDetailOut(PortalPolicyVersionOut):
    class Meta(PortalPolicyVersionOut.Meta):
        fields = [*PortalPolicyVersionOut.Meta.fields, "body"]
        read_only_fields = fields


class PortalAcceptanceOut(serializers.ModelSerializer):
    person = PortalPersonOut()
    version = serializers.IntegerField(source="version_id")
    policy_title = serializers.CharField(source="version.policy.title")
    version_number = serializers.IntegerField(source="version.number")

    class Meta:
        model = Acceptance
        fields = [
            "id",
            "person",
            "version",
            "policy_title",
            "version_number",
            "accepted_at",
            "channel",
            "text_sha256",
            "consent",
            "ip_address",
            "user_agent",
        ]
        read_only_fields = fields


class PortalRequirementOut(serializers.ModelSerializer):
    completion_count = serializers.IntegerField()

    class Meta:
        model = TrainingRequirement
        fields = ["id", "title", "description", "kind", "due_days", "every_months"]
        fields += ["completion_count"]
        read_only_fields = fields


class PortalCompletionOut(serializers.ModelSerializer):
    person = PortalPersonOut()
    requirement = serializers.IntegerField(source="requirement_id")
    has_certificate = serializers.SerializerMethodField()

    class Meta:
        model = TrainingCompletion
        fields = [
            "id",
            "person",
            "requirement",
            "completed_on",
            "source",
            "provider",
            "has_certificate",
            "certificate_sha256",
            "module_sha256",
            "recorded_at",
        ]
        read_only_fields = fields

    def get_has_certificate(self, completion: TrainingCompletion) -> bool:
        return bool(completion.certificate)


class PortalChecklistItemOut(serializers.ModelSerializer):
    late = serializers.BooleanField()
    evidence_sha256 = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistItem
        fields = [
            "id",
            "title",
            "due_date",
            "done_on",
            "done_by_label",
            "note",
            "late",
            "evidence",
            "evidence_sha256",
        ]
        read_only_fields = fields

    def get_evidence_sha256(self, item: ChecklistItem) -> str | None:
        return item.evidence.sha256 if item.evidence_id else None


class PortalChecklistOut(serializers.ModelSerializer):
    items = PortalChecklistItemOut(many=True, source="items.all")

    class Meta:
        model = Checklist
        fields = ["id", "kind", "anchor_date", "completed_at", "items"]
        read_only_fields = fields


class PortalSampledChecklistOut(serializers.Serializer):
    """One sampled person: the sample, the population item, their checklist (or null)."""

    sample = serializers.IntegerField()
    sample_number = serializers.IntegerField()
    population_item = serializers.CharField(help_text="PER-<person id>")
    description = serializers.CharField()
    kind = serializers.CharField()
    person = PortalPersonOut(allow_null=True)
    checklist = PortalChecklistOut(allow_null=True)
