from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from soc2app.errors import ValidationFailed
from tenants.models import Role, slug_validator
from tenants.validation import access_until_day_check, organization_name_clean


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=120, label="Organization name")
    slug = forms.CharField(
        max_length=50,
        label="Address",
        help_text="Used in links: /o/<address>/. Lowercase letters, digits and hyphens.",
        validators=[slug_validator],
    )

    def clean_name(self) -> str:
        try:
            return organization_name_clean(self.cleaned_data["name"])
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()


def _access_until_field() -> forms.DateField:
    return forms.DateField(
        required=False,
        label="Access until",
        help_text="Auditors only: the last day of their access (default: 90 days).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class AccessUntilMixin:
    """The last day of an auditor's access, checked to a sane range before any arithmetic."""

    cleaned_data: dict

    def clean_access_until(self) -> dt.date | None:
        value = self.cleaned_data.get("access_until")
        try:
            access_until_day_check(value)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from exc
        return value

    @property
    def access_expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("access_until")
        if not day:
            return None
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
        return timezone.make_aware(end)


class InvitationForm(AccessUntilMixin, forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(choices=())
    access_until = _access_until_field()

    def __init__(self, *args: object, roles: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]
        # The least powerful role that does work is the safe default: granting more is a
        # choice the inviter makes, never the form's (owner used to be the first option).
        if Role.CONTRIBUTOR in roles:
            self.fields["role"].initial = Role.CONTRIBUTOR


class RoleForm(AccessUntilMixin, forms.Form):
    role = forms.ChoiceField(choices=())
    access_until = _access_until_field()

    def __init__(self, *args: object, roles: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]


class MfaPolicyForm(forms.Form):
    require_mfa = forms.BooleanField(
        required=False,
        label="Require two-factor authentication of every member",
        help_text="Members without an authenticator app are asked to set one up before "
        "they can open any page of the organization. API keys are not affected.",
    )
    require_mfa_for_auditors = forms.BooleanField(
        required=False,
        label="Require it of auditors",
        help_text="Auditors set up an authenticator app before they see the auditor portal.",
    )


class ReviewPolicyForm(forms.Form):
    require_independent_review = forms.BooleanField(
        required=False,
        label="Require independent review of evidence",
        help_text="A version of evidence is accepted or rejected by someone other than the "
        "person who uploaded it (segregation of duties). Only owners can change this.",
    )
