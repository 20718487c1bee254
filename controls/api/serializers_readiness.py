"""Output serializers of an audit's readiness (``controls.readiness.audit_readiness``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controls.api.serializers_deviations import DeviationOut
from controls.models import Answer, AuditType, ControlStatus, Frequency, Operation
from controls.periods import PeriodStatus
from controls.readiness import (
    ControlReadiness,
    CriterionReadiness,
    ExceptionKind,
    Status,
)


def _score() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        coerce_to_string=False,
        help_text="Met counts 1, partial 0.5, gap 0, over the criteria that apply; in percent.",
    )


class CountsOut(serializers.Serializer):
    met = serializers.IntegerField()
    partial = serializers.IntegerField()
    gap = serializers.IntegerField()
    not_applicable = serializers.IntegerField()


class CategoryOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    score = _score()
    counts = CountsOut()


class PeriodOut(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    status = serializers.ChoiceField(
        choices=[(s.value, s.value) for s in PeriodStatus],
        help_text="covered: accepted evidence overlaps it; missing: it has ended without; "
        "upcoming: it has not ended yet; failed: an automated test of the control failed in it "
        "(an exception, not covered).",
    )


class ControlRef(serializers.Serializer):
    id = serializers.IntegerField(source="control.pk")
    code = serializers.CharField(source="control.code")


class ControlReadinessOut(serializers.Serializer):
    id = serializers.IntegerField(source="control.pk")
    code = serializers.CharField(source="control.code")
    title = serializers.CharField(source="control.title")
    status = serializers.ChoiceField(choices=ControlStatus.choices, source="control.status")
    frequency = serializers.ChoiceField(choices=Frequency.choices, source="control.frequency")
    operation = serializers.ChoiceField(
        choices=Operation.choices,
        source="control.operation",
        help_text="manual: a version counts for the one period containing its end; "
        "automatic: for every period it overlaps.",
    )
    owner_email = serializers.SerializerMethodField()
    operating = serializers.BooleanField(
        help_text="Implemented, with the accepted evidence the audit needs."
    )
    accepted = serializers.IntegerField(help_text="Accepted evidence versions that count.")
    pending = serializers.IntegerField(help_text="Evidence versions awaiting review.")
    reviewers = serializers.ListField(
        child=serializers.CharField(),
        help_text="E-mail addresses of who accepted the evidence that counts.",
    )
    note = serializers.CharField(help_text="What is missing, when something is.")
    sample_size = serializers.CharField(
        source="sample",
        help_text="Type 2: the sample auditors commonly draw for this frequency (a "
        'practitioner convention), e.g. "2–5", scaled to the window; empty for Type 1.',
    )
    flags = serializers.ListField(
        child=serializers.CharField(),
        help_text="Type 2: evidence of a manual control that counts less than its range "
        "suggests (it spans several periods, or ends after the window).",
    )
    periods = serializers.SerializerMethodField()
    periods_ended = serializers.IntegerField(help_text="Type 2: how many periods have ended.")
    adopted_on = serializers.DateField(
        allow_null=True, help_text="Type 2: when the control was added, if after the start."
    )

    def get_owner_email(self, readiness: ControlReadiness) -> str | None:
        control = readiness.control
        return control.owner.user.email if control.owner_id else None

    @extend_schema_field(PeriodOut(many=True))
    def get_periods(self, readiness: ControlReadiness) -> list[dict]:
        """Type 2: the sub-periods of the window that the control's frequency implies."""
        return [
            {"start": period.start, "end": period.end, "status": str(state)}
            for period, state in readiness.periods
        ]


class ExceptionOut(serializers.Serializer):
    control = ControlRef(source="*")
    period_start = serializers.DateField(source="period.start")
    period_end = serializers.DateField(source="period.end")
    kind = serializers.ChoiceField(
        choices=[(k.value, k.value) for k in ExceptionKind],
        help_text="missing: an ended period without accepted evidence; failed: a tested item "
        "failed; deviation: recorded by a manager on a period otherwise covered.",
    )
    detail = serializers.CharField()
    owner_email = serializers.CharField(source="owner", allow_blank=True)
    item_id = serializers.CharField(
        allow_blank=True, help_text="failed: the sample item's id (its period is its date)."
    )
    tested_by = serializers.CharField(allow_blank=True, help_text="failed: who tested the item.")
    deviation = DeviationOut(allow_null=True, help_text="The management response, if recorded.")


class FiguresOut(serializers.Serializer):
    controls_implemented = serializers.IntegerField()
    controls_applicable = serializers.IntegerField()
    periods_covered = serializers.IntegerField(help_text="Type 2: ended periods with evidence.")
    periods_ended = serializers.IntegerField()


class AnswerRef(serializers.Serializer):
    answer = serializers.ChoiceField(choices=Answer.choices)
    notes = serializers.CharField()


class CriterionReadinessOut(serializers.Serializer):
    ref = serializers.CharField(source="criterion.ref")
    title = serializers.CharField(source="criterion.title")
    category = serializers.CharField(source="criterion.category.key")
    status = serializers.ChoiceField(choices=[(s.value, s.value) for s in Status])
    reasons = serializers.ListField(child=serializers.CharField())
    owners = serializers.ListField(
        child=serializers.EmailField(), help_text="E-mails of the mapped controls' owners."
    )
    controls = ControlRef(many=True, help_text="The mapped controls (details in `controls`).")
    answer = serializers.SerializerMethodField()

    @extend_schema_field(AnswerRef(allow_null=True))
    def get_answer(self, readiness: CriterionReadiness) -> dict | None:
        """The self-assessment answer, if any."""
        if readiness.answer is None:
            return None
        return {"answer": readiness.answer.answer, "notes": readiness.answer.notes}


class AuditRef(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    audit_type = serializers.ChoiceField(choices=AuditType.choices)
    as_of_date = serializers.DateField(allow_null=True)
    window_start = serializers.DateField(allow_null=True)
    window_end = serializers.DateField(allow_null=True)


class ReadinessOut(serializers.Serializer):
    audit = AuditRef()
    computed_at = serializers.DateTimeField()
    score = _score()
    counts = CountsOut()
    categories = CategoryOut(many=True)
    criteria = CriterionReadinessOut(many=True)
    controls = serializers.SerializerMethodField()
    exceptions = ExceptionOut(
        many=True,
        help_text="Type 2: every missing or failed period of an applicable control, and every "
        "recorded deviation, with the management response.",
    )
    figures = serializers.SerializerMethodField()

    @extend_schema_field(FiguresOut)
    def get_figures(self, readiness: object) -> dict:
        """Plain figures beside the score: controls implemented and periods evidenced."""
        return readiness.plain_figures

    @extend_schema_field(ControlReadinessOut(many=True))
    def get_controls(self, readiness: object) -> list[dict]:
        """Every control mapped to a criterion in scope, by code."""
        rows = sorted(readiness.controls.values(), key=lambda c: c.control.code)
        return ControlReadinessOut(rows, many=True).data
