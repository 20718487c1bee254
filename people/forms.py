"""Forms of the roster pages."""

from __future__ import annotations

from django import forms

from people import imports
from people.models import EmploymentType
from people.selectors import RosterFilter, State


class DateInput(forms.DateInput):
    input_type = "date"


class RosterFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Name or e-mail")
    department = forms.ChoiceField(required=False)
    employment_type = forms.ChoiceField(required=False, label="Employment type")
    state = forms.ChoiceField(required=False, choices=State.CHOICES, label="Show")
    date_from = forms.DateField(required=False, label="From", widget=DateInput)
    date_to = forms.DateField(required=False, label="To", widget=DateInput)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "Any department")] + [(d, d) for d in departments]
        self.fields["employment_type"].choices = [("", "Any type"), *EmploymentType.choices]

    def filters(self) -> RosterFilter:
        if not self.is_valid():
            return RosterFilter()
        data = self.cleaned_data
        return RosterFilter(
            q=data["q"].strip(),
            department=data["department"],
            employment_type=data["employment_type"],
            state=data["state"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


class PersonForm(forms.Form):
    full_name = forms.CharField(max_length=200, label="Full name")
    email = forms.EmailField(max_length=254, label="E-mail")
    title = forms.CharField(max_length=200, required=False)
    department = forms.CharField(max_length=120, required=False)
    manager = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Manager")
    employment_type = forms.ChoiceField(
        choices=EmploymentType.choices, initial=EmploymentType.EMPLOYEE, label="Employment type"
    )
    start_date = forms.DateField(widget=DateInput, label="Start date")
    end_date = forms.DateField(
        widget=DateInput,
        required=False,
        label="End date",
        help_text="Leave empty while they work here.",
    )
    member = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label="Member of the app",
        help_text="When this person uses the app, link their membership.",
    )

    def __init__(self, *args, managers=(), members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].choices = [("", "No manager"), *managers]
        self.fields["member"].choices = [("", "Not a member"), *members]


class EndForm(forms.Form):
    end_date = forms.DateField(widget=DateInput, label="Last day")


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "UTF-8, with a header row: " + ", ".join(imports.COLUMNS) + ". Dates as YYYY-MM-DD; "
            f"at most {imports.MAX_ROWS:,} rows."
        ),
    )


NOT_CONFIRMED = "Tick the box to confirm: anonymising cannot be undone."


class AnonymiseForm(forms.Form):
    """The confirmation of an anonymisation (no script: the box must be ticked)."""

    confirm = forms.BooleanField(
        label="I understand that the name, address and title are replaced for good, and the "
        "IP addresses and browsers of their acceptances and training records are erased.",
        error_messages={"required": NOT_CONFIRMED},
    )
