"""Forms of the risk register pages."""

from __future__ import annotations

from django import forms

from risks.models import Category, Level, RiskMatrix, Treatment
from risks.selectors import RegisterFilter


class DateInput(forms.DateInput):
    input_type = "date"


class RegisterFilterForm(forms.Form):
    owner = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    treatment = forms.ChoiceField(required=False, choices=[("", "Any treatment")])
    level = forms.ChoiceField(required=False, label="Residual level")

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Any owner"), *owners]
        self.fields["treatment"].choices = [("", "Any treatment"), *Treatment.choices]
        self.fields["level"].choices = [("", "Any level"), *Level.choices]

    def filters(self) -> RegisterFilter:
        if not self.is_valid():
            return RegisterFilter()
        data = self.cleaned_data
        return RegisterFilter(owner=data["owner"], treatment=data["treatment"], level=data["level"])


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
