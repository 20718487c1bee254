"""Forms of the vendor pages: the vendor, a document, a review, the list's filters."""

from __future__ import annotations

from django import forms

from controls.selectors import owner_choices
from tenants.models import Membership
from vendors.imports import MAX_ROWS
from vendors.models import Criticality, DataKind, Decision, DocumentKind, ResidualRisk
from vendors.models_rules import RANGES
from vendors.services_rules import LABELS

DATE = {"widget": forms.DateInput(attrs={"type": "date"})}


class VendorForm(forms.Form):
    name = forms.CharField(max_length=200)
    service = forms.CharField(max_length=300, required=False, label="Service it provides")
    owner = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    criticality = forms.ChoiceField(choices=Criticality.choices, initial=Criticality.MEDIUM)
    data_kinds = forms.MultipleChoiceField(
        choices=DataKind.choices,
        required=False,
        label="Data it touches",
        widget=forms.CheckboxSelectMultiple,
    )
    access = forms.CharField(max_length=300, required=False, label="Access it has")
    contract_start = forms.DateField(required=False, **DATE)
    contract_end = forms.DateField(required=False, **DATE)
    is_subprocessor = forms.BooleanField(
        required=False, label="Subprocessor (processes our customers' personal data)"
    )
    website = forms.URLField(max_length=300, required=False, assume_scheme="https")
    next_review_date = forms.DateField(required=False, **DATE)
    notes = forms.CharField(
        max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, organization, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.organization_id = organization.pk
        self.fields["owner"].choices = [("", "Nobody"), *owner_choices(organization)]

    def clean_owner(self) -> Membership | None:
        pk = self.cleaned_data.get("owner")
        if pk is None:
            return None
        return Membership.objects.for_org(self.organization_id).filter(pk=pk).first()


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    file = forms.FileField()
    period_end = forms.DateField(
        required=False,
        label="Period end",
        help_text="SOC 2 report: the end of the period examined. Bridge letter: the date it "
        "covers up to.",
        **DATE,
    )
    expires_on = forms.DateField(
        required=False, label="Expires on", help_text="Certificate: its stated expiry.", **DATE
    )


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(label="Reviewed on", **DATE)
    residual_risk = forms.ChoiceField(choices=ResidualRisk.choices, label="Residual risk")
    decision = forms.ChoiceField(choices=Decision.choices)
    notes = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required for conditions or a rejection.",
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8, with a header row; at most {MAX_ROWS:,} rows.",
    )


class FilterForm(forms.Form):
    criticality = forms.ChoiceField(
        choices=[("", "Any criticality"), *Criticality.choices], required=False
    )
    subprocessor = forms.ChoiceField(
        choices=[("", "Any"), ("yes", "Subprocessors"), ("no", "Not subprocessors")],
        required=False,
    )
    attention = forms.ChoiceField(
        choices=[
            ("", "Everything"),
            ("stale", "Stale or missing documents"),
            ("overdue", "Review overdue"),
        ],
        required=False,
        label="Needs attention",
    )


class RulesForm(forms.Form):
    """Vendors → Rules: the organization's freshness rules (checked by ``services_rules``)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        for name, (low, high) in RANGES.items():
            self.fields[name] = forms.IntegerField(
                label=LABELS[name],
                help_text=f"{low} to {high}.",
                widget=forms.NumberInput(attrs={"min": low, "max": high}),
            )

    def document_fields(self) -> list:
        return [self[n] for n in RANGES if not n.startswith("review_months_")]

    def review_fields(self) -> list:
        return [self[n] for n in RANGES if n.startswith("review_months_")]
