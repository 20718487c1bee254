"""Forms of the risk register pages."""

from __future__ import annotations

from django import forms

from risks.models import MAX_SIZE, Category, Level, RiskMatrix, Treatment
from risks.selectors import RegisterFilter


class DateInput(forms.DateInput):
    input_type = "date"


class RegisterFilterForm(forms.Form):
    owner = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    treatment = forms.ChoiceField(required=False, choices=[("", "Any treatment")])
    level = forms.ChoiceField(required=False, label="Residual level")
    # Set by the matrix page's link ("rescore them first"): risks beyond a smaller matrix.
    beyond = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_SIZE, widget=forms.HiddenInput
    )

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Any owner"), *owners]
        self.fields["treatment"].choices = [("", "Any treatment"), *Treatment.choices]
        self.fields["level"].choices = [("", "Any level"), *Level.choices]

    def filters(self) -> RegisterFilter:
        if not self.is_valid():
            return RegisterFilter()
        data = self.cleaned_data
        return RegisterFilter(
            owner=data["owner"],
            treatment=data["treatment"],
            level=data["level"],
            beyond=data["beyond"],
        )


def _scale(labels: list[str]) -> list[tuple[int, str]]:
    return [(i, f"{i} – {text}") for i, text in enumerate(labels, start=1)]


class RiskForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    category = forms.ChoiceField(choices=Category.choices)
    owner = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    systems = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label="Systems in scope it touches"
    )
    inherent_likelihood = forms.TypedChoiceField(coerce=int, label="Inherent likelihood")
    inherent_impact = forms.TypedChoiceField(coerce=int, label="Inherent impact")
    residual_likelihood = forms.TypedChoiceField(coerce=int, label="Residual likelihood")
    residual_impact = forms.TypedChoiceField(coerce=int, label="Residual impact")
    treatment = forms.ChoiceField(choices=Treatment.choices)
    controls = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Controls that mitigate it",
        help_text="Needed when the treatment is “Mitigate”.",
    )
    accepted_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Why it is accepted",
        help_text="Needed when the treatment is “Accept”.",
    )
    accepted_until = forms.DateField(
        widget=DateInput, required=False, label="Accepted until", help_text="A future date."
    )
    next_review_date = forms.DateField(
        widget=DateInput,
        required=False,
        label="Next review",
        help_text="Empty: a year from today.",
    )

    def __init__(self, *args, matrix: RiskMatrix, owners=(), controls=(), systems=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Nobody yet"), *owners]
        self.fields["controls"].choices = list(controls)
        self.fields["systems"].choices = list(systems)
        for prefix in ("inherent", "residual"):
            self.fields[f"{prefix}_likelihood"].choices = _scale(matrix.likelihood_labels)
            self.fields[f"{prefix}_impact"].choices = _scale(matrix.impact_labels)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class MatrixForm(forms.Form):
    """The matrix settings page; the labels one a line (lowest first), so any size fits."""

    size = forms.TypedChoiceField(
        coerce=int,
        choices=[(n, f"{n} × {n}") for n in range(2, MAX_SIZE + 1)],
        help_text="Likelihood and impact each run from 1 to this size.",
    )
    likelihood_labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Likelihood labels",
        help_text="One a line, lowest first: as many lines as the size, each at most 40 "
        "characters.",
    )
    impact_labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Impact labels",
        help_text="One a line, lowest first.",
    )
    medium = forms.IntegerField(label="Medium from score", min_value=1, max_value=MAX_SIZE**2)
    high = forms.IntegerField(label="High from score", min_value=1, max_value=MAX_SIZE**2)
    critical = forms.IntegerField(label="Critical from score", min_value=1, max_value=MAX_SIZE**2)
    assessment_interval_days = forms.IntegerField(
        label="Risk assessment every (days)",
        min_value=1,
        max_value=9999,
        help_text="How often the periodic risk assessment is run: 30 to 1095 days (365: yearly).",
    )

    @classmethod
    def initial_for(cls, matrix: RiskMatrix) -> dict:
        return {
            "size": matrix.size,
            "likelihood_labels": "\n".join(matrix.likelihood_labels),
            "impact_labels": "\n".join(matrix.impact_labels),
            **{name: matrix.thresholds.get(name) for name in ("medium", "high", "critical")},
            "assessment_interval_days": matrix.assessment_interval_days,
        }

    def values(self) -> dict:
        """What ``services_matrix.matrix_update`` takes."""
        data = self.cleaned_data
        return {
            "size": data["size"],
            "likelihood_labels": _lines(data["likelihood_labels"]),
            "impact_labels": _lines(data["impact_labels"]),
            "thresholds": {name: data[name] for name in ("medium", "high", "critical")},
            "assessment_interval_days": data["assessment_interval_days"],
        }


class AssessmentRunForm(forms.Form):
    performed_on = forms.DateField(
        label="Date of the assessment",
        widget=DateInput,
        help_text="Today, or the day it was done (not before the latest assessment).",
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
        help_text="Who took part, what changed since the last assessment, decisions taken.",
    )
