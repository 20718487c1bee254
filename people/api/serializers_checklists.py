"""Input and output serializers of the checklists API."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from people import checklist_rules as rules
from people.models_checklists import (
    Checklist,
    ChecklistItem,
    ChecklistKind,
    ChecklistTemplate,
    ChecklistTemplateItem,
)
from people.selectors_checklists import ChecklistState
from soc2app.api.serializers import OwnerField, StrictInput

MAX_ID = 2**63 - 1


class TemplateItemIO(StrictInput):
    title = serializers.CharField(max_length=rules.TITLE_MAX)
    description = serializers.CharField(
        max_length=rules.NOTE_MAX, required=False, allow_blank=True, default=""
    )
    owner = OwnerField(required=False, default=None, source="owner_id")
    due_days = serializers.IntegerField(
        min_value=rules.DUE_MIN,
        max_value=rules.DUE_MAX,
        help_text="Days after the start (onboarding) or end (offboarding) date; negative: before.",
    )
    business_days = serializers.BooleanField(required=False, default=False)
    control = serializers.IntegerField(
        required=False,
        default=None,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        source="control_id",
        help_text="Id of the control the item evidences, or null.",
    )
    evidence_required = serializers.BooleanField(required=False, default=False)


class TemplateOut(serializers.ModelSerializer):
    items = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistTemplate
        fields = ["kind", "title", "updated_at", "items"]
        read_only_fields = fields

    def get_items(self, template: ChecklistTemplate) -> list[dict]:
        items: list[ChecklistTemplateItem] = self.context["items"][template.kind]
        return TemplateItemIO(items, many=True).data


class TemplateIn(StrictInput):
    items = TemplateItemIO(many=True, allow_empty=False, max_length=rules.MAX_ITEMS)


class ChecklistItemOut(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_id", allow_null=True, read_only=True)
    owner_email = serializers.SerializerMethodField()
    control = serializers.IntegerField(source="control_id", allow_null=True, read_only=True)
    control_code = serializers.SerializerMethodField()
    done_by = serializers.CharField(source="done_by_label", read_only=True)
    evidence_version = serializers.IntegerField(
        source="evidence_id", allow_null=True, read_only=True
    )
    late = serializers.SerializerMethodField()

    class Meta:
        model = ChecklistItem
        fields = [
            "id",
            "checklist",
            "position",
            "title",
            "description",
            "owner",
            "owner_email",
            "due_days",
            "business_days",
            "due_date",
            "control",
            "control_code",
            "evidence_required",
            "done_on",
            "done_at",
            "done_by",
            "note",
            "evidence_version",
            "late",
            "overdue_recorded_at",
        ]
        read_only_fields = fields

    def get_owner_email(self, item: ChecklistItem) -> str | None:
        return item.owner.user.email if item.owner_id else None

    def get_control_code(self, item: ChecklistItem) -> str | None:
        return item.control.code if item.control_id else None

    def get_late(self, item: ChecklistItem) -> bool:
        """Done after its due date, or still open after it."""
        return item.done_late or item.is_overdue(timezone.localdate())


class ChecklistOut(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.full_name", read_only=True)
    item_count = serializers.IntegerField(read_only=True)
    open_count = serializers.IntegerField(read_only=True)
    late_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Checklist
        fields = [
            "id",
            "person",
            "person_name",
            "kind",
            "anchor_date",
            "opened_at",
            "completed_at",
            "item_count",
            "open_count",
            "late_count",
        ]
        read_only_fields = fields


class ChecklistDetailOut(ChecklistOut):
    items = ChecklistItemOut(many=True, read_only=True)

    class Meta(ChecklistOut.Meta):
        fields = [*ChecklistOut.Meta.fields, "items"]
        read_only_fields = fields


class ChecklistFilterIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChecklistKind.choices, required=False)
    state = serializers.ChoiceField(
        choices=[c for c, _ in ChecklistState.CHOICES],
        required=False,
        default=ChecklistState.OPEN,
        help_text="open (default), done (completed) or all.",
    )
    late = serializers.BooleanField(
        required=False, default=False, help_text="Only checklists with a late item."
    )
    person = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class ItemDoneIn(StrictInput):
    done_on = serializers.DateField(help_text="The day it was done (not in the future).")
    note = serializers.CharField(
        max_length=rules.NOTE_MAX, required=False, allow_blank=True, default=""
    )
    evidence_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=MAX_ID,
        help_text="An existing evidence version of the item's control.",
    )
    file = serializers.FileField(
        required=False,
        default=None,
        help_text="Multipart only: an evidence file, stored as a new version on the item's "
        "control (checked and scanned like every evidence upload).",
    )
