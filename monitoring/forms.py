"""Forms of the monitoring pages."""

from __future__ import annotations

from django import forms

from monitoring.models import ConnectionKind, Schedule, Severity


class OverviewFilter(forms.Form):
    severity = forms.ChoiceField(required=False, label="Severity")
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Owner")

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = [("", "Any severity"), *Severity.choices]
        self.fields["owner"].choices = [("", "Any owner"), *owners]


class ConnectionForm(forms.Form):
    # Only pushed tests can be connected today; AWS and GitHub come with their collectors.
    kind = forms.ChoiceField(
        choices=[(ConnectionKind.CUSTOM.value, ConnectionKind.CUSTOM.label)],
        initial=ConnectionKind.CUSTOM,
        help_text="Any script or CI job pushes its test results through the API.",
    )
    name = forms.CharField(max_length=120, help_text="e.g. “CI security tests”.")
    systems = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Systems in scope",
        widget=forms.CheckboxSelectMultiple,
    )
    schedule = forms.ChoiceField(choices=Schedule.choices, initial=Schedule.DAILY)

    def __init__(self, *args, systems=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["systems"].choices = list(systems)
