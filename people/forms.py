"""Forms of the roster pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse

from people import imports
from people.models import EmploymentType
from people.selectors import RosterFilter, State, person_by_email


class DateInput(forms.DateInput):
    input_type = "date"


def suggest_attrs(organization: Any) -> dict[str, str]:
    """An e-mail input's attributes for suggestions as you type (``people_suggest``, into the
    page's ``<datalist id="people-suggestions">``): one person is named by e-mail, never picked
    from a list of the whole roster."""
    return {
        "list": "people-suggestions",
        "autocomplete": "off",
        "hx-get": reverse("people_suggest", kwargs={"org_slug": organization.slug}),
        "hx-trigger": "input changed delay:250ms",
        "hx-target": "#people-suggestions",
        "hx-swap": "innerHTML",
    }


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
    # The services name the manager (a reporting cycle, say); this form asks for their e-mail.
    error_fields = {"manager": "manager_email"}

    full_name = forms.CharField(max_length=200, label="Full name")
    email = forms.EmailField(max_length=254, label="E-mail")
    title = forms.CharField(max_length=200, required=False)
    department = forms.CharField(max_length=120, required=False)
    manager_email = forms.EmailField(
        required=False,
        max_length=254,
        label="Manager's e-mail",
        help_text="Type a name or an e-mail of your people list; leave empty for no manager.",
    )
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

    def __init__(self, *args, organization: Any, person: Any = None, members=(), **kwargs):
        """``person``: the one edited (None for a new one)."""
        super().__init__(*args, **kwargs)
        self.organization, self.person = organization, person
        self.fields["manager_email"].widget.attrs.update(suggest_attrs(organization))
        self.fields["member"].choices = [("", "Not a member"), *members]

    def clean(self) -> dict[str, Any]:
        """``manager``: the person of this organization with the e-mail given (or None)."""
        data = super().clean()
        data["manager"] = None
        email = (data.pop("manager_email", None) or "").strip()
        if not email:
            return data
        current = self.person.manager if self.person is not None else None
        if current is not None and current.email.lower() == email.lower():
            # Kept as it is, even when the manager's entry was anonymised since.
            data["manager"] = current
            return data
        manager = person_by_email(self.organization, email)
        if manager is None:
            self.add_error("manager_email", f"Nobody in your people list has the e-mail {email}.")
        elif self.person is not None and manager.pk == self.person.pk:
            self.add_error("manager_email", "A person cannot be their own manager.")
        else:
            data["manager"] = manager
        return data


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
