"""Forms of the trust center: the settings, the controls chosen, a document, and the public
request for a private document."""

from __future__ import annotations

from django import forms

from trust import selectors
from trust.models import Visibility

TEXT = {"widget": forms.Textarea(attrs={"rows": 3})}


class CenterForm(forms.Form):
    published = forms.BooleanField(required=False, label="Published: anyone can open the page")
    slug = forms.CharField(
        max_length=50,
        label="Address",
        help_text="The page is at /trust/<em>address</em>/ (letters, digits, hyphens).",
    )
    headline = forms.CharField(max_length=200, required=False)
    intro = forms.CharField(max_length=2000, required=False, label="Introduction", **TEXT)
    audit = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label="Audit shown",
        help_text="Its type and date, and the readiness of the controls below, come from it.",
    )
    show_categories = forms.BooleanField(required=False, label="Show the categories in scope")
    show_subprocessors = forms.BooleanField(required=False, label="Show the subprocessors")
    nda_text = forms.CharField(
        max_length=20000,
        label="NDA",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Visitors accept this text before they request a private document.",
    )
    allowed_domains = forms.CharField(
        max_length=5000,
        required=False,
        label="Domains approved automatically",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line, like customer.example.com: requests from these e-mail "
        "domains get their link at once.",
    )
    custom_domain = forms.CharField(
        max_length=253,
        required=False,
        label="Custom domain",
        help_text="Optional, like trust.example.com: served once you verify it by DNS "
        "(below, after saving) and the operator lists it in TRUST_HOSTS.",
    )

    def __init__(self, *args, organization, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["audit"].choices = [("", "None"), *selectors.audit_choices(organization)]


class ControlsForm(forms.Form):
    controls = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Controls shown",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, organization, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["controls"].choices = selectors.control_choices(organization)


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=500, required=False)
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.PRIVATE, widget=forms.RadioSelect
    )
    file = forms.FileField(required=False, help_text="A PDF for a private document.")
    policy_version = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label="Or an approved policy",
    )

    def __init__(self, *args, organization, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        versions = selectors.approved_policy_versions(organization)
        self.fields["policy_version"].choices = [
            ("", "None"),
            *[(v.pk, f"{v.policy.title} (version {v.number})") for v in versions],
        ]
        self._versions = {v.pk: v for v in versions}

    def clean_policy_version(self):  # noqa: ANN201
        pk = self.cleaned_data.get("policy_version")
        return None if pk is None else self._versions.get(pk)


class DocumentEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=500, required=False)
    visibility = forms.ChoiceField(choices=Visibility.choices, widget=forms.RadioSelect)


class RequestForm(forms.Form):
    name = forms.CharField(max_length=200, label="Your name")
    email = forms.EmailField(max_length=254, label="Work e-mail")
    company = forms.CharField(max_length=200)
    nda = forms.BooleanField(
        label="I accept the NDA above",
        error_messages={
            "required": "Tick the box to accept the NDA: documents are sent only under it."
        },
    )
