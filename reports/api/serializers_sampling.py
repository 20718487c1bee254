"""Input and output serializers of populations, samples and test results."""

from __future__ import annotations

from rest_framework import serializers

from reports.models import Population, PopulationItem, Sample, SampleItem, SampleMethod
from reports.sampling import MAX_ROWS
from soc2app.api.serializers import StrictInput

ID = {"min_value": 1, "max_value": 2**63 - 1}


class PopulationIn(StrictInput):
    control = serializers.IntegerField(help_text="The control's id (in the audit's scope).", **ID)
    # Checked row by row by the service (each message names the item as "Row n + 1"): a
    # nested serializer would spend seconds on 100,000 rows.
    items = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        max_length=MAX_ROWS,
        help_text="The occurrences, objects `{id, date (YYYY-MM-DD), description}`. Leave out and set `from_evidence` to build the population "
        "from the control's evidence versions instead. A CSV file can be sent as multipart "
        "`file` (with `control`).",
    )
    from_evidence = serializers.BooleanField(required=False, default=False)
    from_source = serializers.CharField(
        required=False,
        max_length=100,
        help_text="A ready-made population: `people.joiners` (new hires in the window) or "
        "`people.leavers` (leavers in the window), built from the roster.",
    )


class PopulationOut(serializers.ModelSerializer):
    control = serializers.IntegerField(source="control_id")
    control_code = serializers.CharField(source="control.code")
    audit = serializers.IntegerField(source="audit_id")
    supplied_by = serializers.CharField(source="supplied_by_label")
    sha256 = serializers.CharField(
        help_text="SHA-256 of the canonical CSV: `sha256sum` of the export prints it."
    )

    class Meta:
        model = Population
        fields = [
            "id",
            "audit",
            "control",
            "control_code",
            "version",
            "source",
            "source_name",
            "sha256",
            "row_count",
            "supplied_by",
            "created_at",
            "frozen_at",
        ]


class PopulationItemOut(serializers.ModelSerializer):
    class Meta:
        model = PopulationItem
        fields = ["id", "item_id", "date", "description"]


class SampleIn(StrictInput):
    population = serializers.IntegerField(**ID)
    method = serializers.ChoiceField(choices=SampleMethod.choices, default=SampleMethod.SEEDED)
    size = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ROWS,
        help_text="Leave out for the suggested size; another size needs `size_reason`.",
    )
    size_reason = serializers.CharField(required=False, allow_blank=True, default="")
    seed = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="Leave out for a random seed (recorded either way).",
    )
    item_ids = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        max_length=MAX_ROWS,
        help_text="The population's item ids, for `method=manual`.",
    )
    redraw_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when the population was sampled already.",
    )
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class SampleItemOut(serializers.ModelSerializer):
    item_id = serializers.CharField(source="population_item.item_id")
    date = serializers.DateField(source="population_item.date")
    description = serializers.CharField(source="population_item.description")
    request = serializers.IntegerField(source="request_id", allow_null=True)
    request_reference = serializers.SerializerMethodField()
    tested_by = serializers.CharField(source="tested_by_label")

    class Meta:
        model = SampleItem
        fields = [
            "id",
            "rank",
            "item_id",
            "date",
            "description",
            "request",
            "request_reference",
            "result",
            "note",
            "tested_by",
            "tested_at",
        ]

    def get_request_reference(self, item: SampleItem) -> str | None:
        return item.request.reference if item.request_id else None


class SampleOut(serializers.ModelSerializer):
    population = serializers.IntegerField(source="population_id")
    control = serializers.IntegerField(source="control_id")
    drawn_by = serializers.CharField(source="drawn_by_label")

    class Meta:
        model = Sample
        fields = [
            "id",
            "population",
            "control",
            "number",
            "method",
            "seed",
            "size",
            "suggested_size",
            "size_reason",
            "redraw_reason",
            "drawn_by",
            "drawn_at",
        ]


class ResultIn(StrictInput):
    result = serializers.ChoiceField(
        choices=[("no_exception", "No exception"), ("exception", "Exception")]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
