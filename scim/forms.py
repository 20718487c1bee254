"""Forms of the provisioning page."""

from __future__ import annotations

from django import forms

from scim.models import ProvisionedRole


class ScimTokenForm(forms.Form):
    name = forms.CharField(
        max_length=80, help_text="The identity provider using it, e.g. “okta” or “entra-id”."
    )


class ProvisioningSettingsForm(forms.Form):
    default_role = forms.ChoiceField(
        choices=ProvisionedRole.choices,
        help_text="The role of members SCIM creates. SCIM never creates owners or admins.",
    )
    manage_personnel = forms.BooleanField(
        required=False,
        label="Also manage personnel",
    )
