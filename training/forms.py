"""Forms of the training pages (the assignment form is the policies' one)."""

from __future__ import annotations

from django import forms


class ExternalCourseForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=500, required=False, widget=forms.Textarea)
    due_days = forms.IntegerField(
        min_value=0, max_value=365, initial=30, label="Due within (days of the start date)"
    )
    every_months = forms.IntegerField(
        min_value=0, max_value=36, initial=12, label="Then every (months; 0 = once)"
    )


class CompletionForm(forms.Form):
    """An external course: the date it was completed, and optionally who gave it and the
    certificate."""

    completed_on = forms.DateField(
        label="Completed on", widget=forms.DateInput(attrs={"type": "date"})
    )
    provider = forms.CharField(max_length=200, required=False, label="Course or provider")
    certificate = forms.FileField(required=False, label="Certificate (optional)")


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file")
