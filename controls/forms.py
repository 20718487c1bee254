"""Browser forms for controls, systems and audits. They parse and shape input; the rules
(uniqueness, windows, permissions) live in the services, whose errors land on these fields."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from controls.models import (
    Answer,
    AuditStatus,
    AuditType,
    Control,
    ControlStatus,
    ControlType,
    Frequency,
    Operation,
)
from criteria.models import Category

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ControlFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    status = django_filters.ChoiceFilter(choices=ControlStatus.choices, empty_label="Any status")
    owner = django_filters.ChoiceFilter(method="by_owner", label="Owner", empty_label="Any owner")
    frequency = django_filters.ChoiceFilter(choices=Frequency.choices, empty_label="Any frequency")
    type = django_filters.ChoiceFilter(
        field_name="control_type",
        choices=ControlType.choices,
        label="Type",
        empty_label="Any type",
    )
    criterion = django_filters.CharFilter(method="by_criterion", label="Criterion", max_length=12)

    class Meta:
        model = Control
        fields: list[str] = []

    def __init__(self, *args, owners: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["owner"].extra["choices"] = [("none", "Nobody"), *owners]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )

    def by_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=value)

    def by_criterion(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(mappings__criterion__ref__iexact=value.strip()).distinct()


class ControlForm(forms.Form):
    code = forms.CharField(max_length=20, help_text="Unique in your organization, e.g. AC-07.")
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    control_type = forms.ChoiceField(label="Type", choices=ControlType.choices)
    frequency = forms.ChoiceField(choices=Frequency.choices)
    operation = forms.ChoiceField(
        label="How it operates",
        required=False,
        choices=[("", "The default for its type"), *Operation.choices],
        help_text="Manual: each piece of evidence counts for the one period it ends in. "
        "Automatic: a report counts for every period it covers.",
    )
    owner = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(choices=ControlStatus.choices, initial=ControlStatus.NOT_STARTED)
    na_justification = forms.CharField(
        label="Why it does not apply",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Required when the status is “Not applicable”.",
    )
    due_date = forms.DateField(required=False, widget=DATE, help_text="When it should be in place.")
    criteria = forms.CharField(
        required=False,
        max_length=2000,
        help_text="Criterion references separated by commas or spaces, e.g. CC6.1, CC6.2.",
    )

    def __init__(self, *args, owners: list[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Nobody yet"), *owners]

    def clean_criteria(self) -> list[str]:
        raw = self.cleaned_data["criteria"].replace(",", " ").split()
        return list(dict.fromkeys(r.upper() for r in raw))


class OwnerControlForm(forms.Form):
    """What the owner of a control (a contributor) may change."""

    status = forms.ChoiceField(choices=ControlStatus.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    na_justification = forms.CharField(
        label="Why it does not apply", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class BulkControlsForm(forms.Form):
    controls = forms.TypedMultipleChoiceField(coerce=int)
    owner = forms.ChoiceField(required=False, label="Set owner")
    status = forms.ChoiceField(
        required=False,
        label="Set status",
        choices=[("", "Keep"), *[c for c in ControlStatus.choices if c[0] != "not_applicable"]],
    )

    def __init__(self, *args, owners: list[tuple[int, str]] = (), ids: list[int] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Keep"), ("none", "Nobody"), *owners]
        self.fields["controls"].choices = [(i, i) for i in ids]
        self.fields["controls"].error_messages["required"] = "Select at least one control."

    def owner_value(self) -> object:
        value = self.cleaned_data.get("owner")
        if not value:
            return ...
        return None if value == "none" else int(value)


class AdoptForm(forms.Form):
    templates = forms.MultipleChoiceField(
        error_messages={"required": "Select at least one control to adopt."}
    )
    owner = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args, codes: list[str] = (), owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["templates"].choices = [(c, c) for c in codes]
        self.fields["owner"].choices = [("", "Nobody yet"), *owners]


class SystemForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owner = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    components = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One per line: services, databases, vendors.",
    )

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Nobody yet"), *owners]

    def clean_components(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["components"].splitlines() if line.strip()
        ]


class AuditBasicsForm(forms.Form):
    """Step 1 of the wizard: what kind of audit, and when."""

    name = forms.CharField(max_length=120, help_text="e.g. “SOC 2 Type 2 FY2027”.")
    audit_type = forms.ChoiceField(
        label="Type", choices=AuditType.choices, widget=forms.RadioSelect
    )
    as_of_date = forms.DateField(
        label="As-of date (Type 1)",
        required=False,
        widget=DATE,
        help_text="The date the design of your controls is assessed at.",
    )
    window_start = forms.DateField(label="Window start (Type 2)", required=False, widget=DATE)
    window_end = forms.DateField(
        label="Window end (Type 2)",
        required=False,
        widget=DATE,
        help_text="An observation window of 3 to 12 months.",
    )


class AuditScopeForm(forms.Form):
    """Step 2: the categories beside Security, and the systems in scope."""

    categories = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Optional categories"
    )
    systems = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, framework, systems=(), **kwargs):
        super().__init__(*args, **kwargs)
        categories = list(Category.objects.filter(framework=framework).order_by("position"))
        optional = [c for c in categories if not c.always_in_scope]
        self.fields["categories"].choices = [(c.key, c.name) for c in optional]
        self.fields["systems"].choices = [(s.pk, s.name) for s in systems]
        # What each category covers, in the catalog's own first sentence, beside its box.
        self.always_in_scope = [
            (c.name, first_sentence(c.description)) for c in categories if c.always_in_scope
        ]
        self.category_options = list(
            zip(self["categories"], [first_sentence(c.description) for c in optional], strict=True)
        )


def first_sentence(text: str) -> str:
    """The first sentence of a catalog description ("... objectives. Every SOC 2 ..." stops at
    "objectives.")."""
    text = " ".join(text.split())
    end = text.find(". ")
    return text if end == -1 else text[: end + 1]


class AuditFirmForm(forms.Form):
    """Step 5: the CPA firm and fieldwork dates."""

    cpa_firm = forms.CharField(label="CPA firm", max_length=160, required=False)
    fieldwork_start = forms.DateField(required=False, widget=DATE)
    fieldwork_end = forms.DateField(required=False, widget=DATE)
    status = forms.ChoiceField(choices=AuditStatus.choices)


ANSWER_CHOICES = [("", "Not answered"), *Answer.choices]


def answers_from_post(data, refs: list[str]) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Read ``answer-<ref>`` / ``notes-<ref>`` pairs; unanswered criteria are left out."""
    answers: dict[str, tuple[str, str]] = {}
    errors: dict[str, str] = {}
    for ref in refs:
        answer = data.get(f"answer-{ref}", "")
        notes = data.get(f"notes-{ref}", "")[:4000]
        if not answer:
            continue
        if answer not in Answer.values:
            errors[ref] = "Choose one of the answers."
            continue
        answers[ref] = (answer, notes)
    return answers, errors


class DeviationForm(forms.Form):
    period_start = forms.DateField(widget=DATE, label="First day of the period")
    period_end = forms.DateField(widget=DATE, label="Last day of the period")
    what_happened = forms.CharField(
        max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), label="What happened"
    )
    cause = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    remediation = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What was done about it: the management response a SOC 2 report shows.",
    )
    remediation_date = forms.DateField(
        widget=DATE, required=False, label="Remediated on", help_text="Or the date it will be."
    )
