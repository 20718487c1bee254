"""Input and output serializers of an organization's controls."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from rest_framework import serializers

from controls.models import Control, ControlStatus, ControlType, Frequency, Operation
from soc2app.api.serializers import OwnerField, StrictInput

CRITERIA_FIELD_HELP = 'Criterion references of the catalog, e.g. ["CC6.1", "CC6.2"].'


def _criteria_field(**kwargs: object) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=12),
        max_length=200,
        help_text=CRITERIA_FIELD_HELP,
        **kwargs,
    )


class ControlOut(serializers.ModelSerializer):
    owner_email = serializers.SerializerMethodField()
    template = serializers.SerializerMethodField()
    criteria = serializers.SerializerMethodField()

    class Meta:
        model = Control
        fields = [
            "id",
            "code",
            "title",
            "description",
            "control_type",
            "frequency",
            "operation",
            "status",
            "na_justification",
            "due_date",
            "owner",
            "owner_email",
            "template",
            "criteria",
            "evidence_guidance",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_owner_email(self, control: Control) -> str | None:
        return control.owner.user.email if control.owner_id else None

    def get_template(self, control: Control) -> str | None:
        """Code of the library template the control was adopted from."""
        return control.template.code if control.template_id else None

    def get_criteria(self, control: Control) -> list[str]:
        # ``mappings`` is prefetched with its criteria by ``controls.selectors.controls_list``.
        return [m.criterion.ref for m in control.mappings.all()]


class ControlRowOut(serializers.BaseSerializer):
    """``ControlOut`` built from a row of ``controls.selectors.control_rows`` (the list
    endpoint; the schema documents ``ControlOut``). The same fields and formats (a test
    compares the two field by field), without DRF's per-field machinery and model instances,
    which cost more than the rest of a list request."""

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)
        # Once per list (``many=True`` makes one child): the time zone lookup is not free.
        self.zone = timezone.get_current_timezone()

    def when(self, value: dt.datetime | None) -> str | None:
        """DRF's ``DateTimeField`` output: in the current time zone, UTC written as "Z"."""
        if value is None:
            return None
        text = value.astimezone(self.zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    def to_representation(self, row: dict) -> dict:
        when = self.when
        due = row["due_date"]
        return {
            "id": row["id"],
            "code": row["code"],
            "title": row["title"],
            "description": row["description"],
            "control_type": row["control_type"],
            "frequency": row["frequency"],
            "operation": row["operation"],
            "status": row["status"],
            "na_justification": row["na_justification"],
            "due_date": due.isoformat() if due is not None else None,
            "owner": row["owner_id"],
            "owner_email": row["owner__user__email"],
            "template": row["template__code"],
            "criteria": row["criteria"],
            "evidence_guidance": row["evidence_guidance"],
            "created_at": when(row["created_at"]),
            "updated_at": when(row["updated_at"]),
        }


class ControlCreateIn(StrictInput):
    code = serializers.CharField(max_length=20)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    control_type = serializers.ChoiceField(choices=ControlType.choices)
    frequency = serializers.ChoiceField(choices=Frequency.choices)
    operation = serializers.ChoiceField(
        choices=Operation.choices,
        required=False,
        default="",
        help_text="manual or automatic; omitted: the default for the control type.",
    )
    owner = OwnerField(required=False, default=None)
    status = serializers.ChoiceField(
        choices=ControlStatus.choices, required=False, default=ControlStatus.NOT_STARTED
    )
    na_justification = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text="Why the control does not apply (required with status not_applicable).",
    )
    due_date = serializers.DateField(allow_null=True, required=False, default=None)
    criteria = _criteria_field(required=False, default=list)


class ControlUpdateIn(StrictInput):
    """Only the fields sent change. A contributor may send status, description and
    na_justification, on controls they own; criteria need a compliance manager."""

    code = serializers.CharField(max_length=20, required=False)
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    control_type = serializers.ChoiceField(choices=ControlType.choices, required=False)
    frequency = serializers.ChoiceField(choices=Frequency.choices, required=False)
    operation = serializers.ChoiceField(choices=Operation.choices, required=False)
    owner = OwnerField(required=False)
    status = serializers.ChoiceField(choices=ControlStatus.choices, required=False)
    na_justification = serializers.CharField(allow_blank=True, required=False)
    due_date = serializers.DateField(allow_null=True, required=False)
    criteria = _criteria_field(required=False)


class AdoptIn(StrictInput):
    templates = serializers.ListField(
        child=serializers.CharField(max_length=20),
        min_length=1,
        max_length=500,
        help_text='Codes of library templates, e.g. ["GOV-01", "AC-02"].',
    )
    owner = OwnerField(required=False, default=None)


class AdoptOut(serializers.Serializer):
    adopted = ControlOut(many=True, help_text="The controls created.")
    skipped = serializers.ListField(
        child=serializers.CharField(),
        help_text="Template codes already used by a control of the organization.",
    )


class BulkIn(StrictInput):
    controls = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=500,
        help_text="Ids of the controls to change.",
    )
    owner = OwnerField(required=False, help_text="New owner (a member id), or null for nobody.")
    status = serializers.ChoiceField(
        choices=ControlStatus.choices,
        required=False,
        help_text="New status (not_applicable is set one control at a time, with a reason).",
    )


class BulkOut(serializers.Serializer):
    updated = serializers.IntegerField(help_text="How many controls changed.")
