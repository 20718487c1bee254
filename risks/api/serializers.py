"""Input and output serializers of the risks API."""

from __future__ import annotations

from rest_framework import serializers

from risks.models import MAX_SIZE, Category, Level, Risk, RiskMatrix, Treatment
from soc2app.api.serializers import OwnerField, StrictInput

_LEVELS = "The score's level on the matrix: low, medium, high or critical."
_ID = {"min_value": 1, "max_value": 2**63 - 1}


class RiskOut(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    accepted_by = serializers.IntegerField(source="accepted_by_id", allow_null=True)
    controls = serializers.SerializerMethodField()
    systems = serializers.SerializerMethodField()
    inherent_level = serializers.CharField(help_text=_LEVELS)
    residual_level = serializers.CharField(help_text=_LEVELS)
    acceptance_expired = serializers.BooleanField()

    class Meta:
        model = Risk
        fields = [
            "id",
            "title",
            "description",
            "category",
            "owner",
            "systems",
            "inherent_likelihood",
            "inherent_impact",
            "inherent_score",
            "inherent_level",
            "residual_likelihood",
            "residual_impact",
            "residual_score",
            "residual_level",
            "treatment",
            "controls",
            "accepted_by",
            "accepted_reason",
            "accepted_until",
            "accepted_at",
            "acceptance_expired",
            "next_review_date",
            "library_key",
            "created_at",
            "updated_at",
        ]

    def get_controls(self, risk: Risk) -> list[int]:
        return sorted(c.pk for c in risk.controls.all())

    def get_systems(self, risk: Risk) -> list[int]:
        return sorted(s.pk for s in risk.systems.all())


class RiskPatchIn(StrictInput):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices)
    owner = OwnerField(help_text="Id of a member who manages the register, or null.")
    systems = serializers.ListField(child=serializers.IntegerField(**_ID), max_length=200)
    inherent_likelihood = serializers.IntegerField()
    inherent_impact = serializers.IntegerField()
    residual_likelihood = serializers.IntegerField()
    residual_impact = serializers.IntegerField()
    treatment = serializers.ChoiceField(choices=Treatment.choices)
    controls = serializers.ListField(child=serializers.IntegerField(**_ID), max_length=500)
    accepted_reason = serializers.CharField(allow_blank=True)
    accepted_until = serializers.DateField(allow_null=True)
    next_review_date = serializers.DateField()


class RiskIn(RiskPatchIn):
    """A new risk; the residual scores default to the inherent ones."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.required = name in ("title", "category", "inherent_likelihood", "inherent_impact")


class RiskAdoptIn(StrictInput):
    library_key = serializers.CharField(max_length=60)


class RiskLibraryOut(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    likelihood = serializers.IntegerField()
    impact = serializers.IntegerField()
    controls = serializers.ListField(child=serializers.CharField())
    criteria = serializers.ListField(child=serializers.CharField())
    adopted_risk = serializers.IntegerField(allow_null=True)


class RiskMatrixOut(serializers.ModelSerializer):
    likelihood_labels = serializers.ListField(child=serializers.CharField())
    impact_labels = serializers.ListField(child=serializers.CharField())
    thresholds = serializers.DictField(child=serializers.IntegerField())

    class Meta:
        model = RiskMatrix
        fields = [
            "size",
            "likelihood_labels",
            "impact_labels",
            "thresholds",
            "assessment_interval_days",
            "updated_at",
        ]


class RiskMatrixIn(StrictInput):
    """A change of the matrix: any of the fields; a new size comes with its labels."""

    size = serializers.IntegerField(help_text="2 to 10.")
    likelihood_labels = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        max_length=MAX_SIZE,
        help_text="One per step, lowest first; each 1 to 40 characters.",
    )
    impact_labels = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        max_length=MAX_SIZE,
        help_text="One per step, lowest first; each 1 to 40 characters.",
    )
    thresholds = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="The lowest score of each level: medium < high < critical, within 1..size².",
    )
    assessment_interval_days = serializers.IntegerField(help_text="30 to 1095.")


class RiskFilterIn(serializers.Serializer):
    owner = serializers.IntegerField(required=False, **_ID)
    treatment = serializers.ChoiceField(choices=Treatment.choices, required=False)
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    beyond = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIZE)
