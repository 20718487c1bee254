"""Forms of the policy pages."""

from __future__ import annotations

from django import forms

from policies.markdown import MAX_BODY


class PolicyTextForm(forms.Form):
    body = forms.CharField(
        label="Policy text (Markdown)",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 24, "class": "policy-editor"}),
        help_text="Headings with #, lists with - or 1., **bold**. HTML is shown as text. "
        "{{ organization_name }} becomes your organization's name.",
    )
    change_note = forms.CharField(
        label="What changed", max_length=300, required=False, help_text="Shown in the history."
    )


class NewPolicyForm(PolicyTextForm):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(max_length=300, required=False)
    field_order = ["title", "summary", "body"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["change_note"]


class PolicySettingsForm(forms.Form):
    owner = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    approver = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        help_text="The person who approves each version (not the one who wrote it).",
    )
    review_cadence_months = forms.IntegerField(
        min_value=1, max_value=36, label="Review every (months)", initial=12
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Nobody"), *members]
        self.fields["approver"].choices = [("", "Nobody yet"), *members]


class ReturnForm(forms.Form):
    note = forms.CharField(
        label="What should change", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class AssignForm(forms.Form):
    target = forms.ChoiceField(
        choices=[
            ("everyone", "Everyone"),
            ("department", "A department"),
            ("person", "One person"),
        ],
        widget=forms.RadioSelect,
        initial="everyone",
        label="Assign to",
    )
    department = forms.ChoiceField(required=False)
    person = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)

    def __init__(self, *args, departments=(), people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [
            ("", "Choose a department"),
            *((d, d) for d in departments),
        ]
        self.fields["person"].choices = [("", "Choose a person"), *people]
