"""Forms of the policy pages."""

from __future__ import annotations

from django import forms

from people.forms import suggest_attrs
from people.selectors import person_by_email
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
    """Whom a policy or a training is assigned to. One person is named by e-mail (with
    suggestions as you type, ``people_suggest``), not picked from a list of everyone: a roster
    of thousands would make the page heavy."""

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
    person_email = forms.EmailField(
        required=False,
        max_length=254,
        label="Person's e-mail",
        help_text="Type a name or an e-mail of your people list.",
    )

    def __init__(self, *args, departments=(), organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        if organization is not None:
            self.fields["person_email"].widget.attrs.update(suggest_attrs(organization))
        self.fields["department"].choices = [
            ("", "Choose a department"),
            *((d, d) for d in departments),
        ]

    def clean(self):
        data = super().clean()
        target = data.get("target")
        data["person"] = None
        if target == "department" and not data.get("department"):
            self.add_error("department", "Choose a department.")
        if target == "person" and "person_email" not in self.errors:
            email = (data.get("person_email") or "").strip()
            if not email:
                self.add_error("person_email", "Enter the person's e-mail.")
            else:
                data["person"] = person_by_email(self.organization, email)
                if data["person"] is None:
                    self.add_error(
                        "person_email", f"Nobody in your people list has the e-mail {email}."
                    )
        return data

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return "Choose whom to assign it to."
