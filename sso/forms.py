from __future__ import annotations

from django import forms

from sso.models import ConnectionKind, VerificationMethod


class OidcForm(forms.Form):
    oidc_issuer = forms.URLField(
        label="Issuer",
        max_length=500,
        assume_scheme="https",
        help_text="As the identity provider states it, e.g. https://login.example.com/tenant/v2.0",
    )
    oidc_client_id = forms.CharField(label="Client id", max_length=300)
    oidc_client_secret = forms.CharField(
        label="Client secret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Leave empty to keep the current one.",
    )


class SamlForm(forms.Form):
    saml_metadata_url = forms.URLField(
        label="IdP metadata URL", max_length=500, required=False, assume_scheme="https"
    )
    saml_metadata_xml = forms.CharField(
        label="…or IdP metadata XML",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=1024 * 1024,
    )


class KindForm(forms.Form):
    kind = forms.ChoiceField(choices=ConnectionKind.choices)


class DomainForm(forms.Form):
    domain = forms.CharField(label="E-mail domain", max_length=253, help_text="e.g. example.com")


class VerifyForm(forms.Form):
    method = forms.ChoiceField(choices=VerificationMethod.choices)


class PolicyForm(forms.Form):
    require_sso = forms.BooleanField(
        label="Require single sign-on (password and TOTP sign-in refused for members)",
        required=False,
    )
    break_glass = forms.TypedChoiceField(
        label="Break-glass owner (keeps password + two-factor sign-in)",
        coerce=int,
        required=False,
        empty_value=None,
    )
    allow_jit = forms.BooleanField(
        label="Create a contributor at the first sign-in of someone not yet a member",
        required=False,
    )

    def __init__(self, *args: object, owners: list, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["break_glass"].choices = [("", "— none —")] + [
            (m.pk, m.user.email) for m in owners
        ]

    def cleaned_data_for_service(self) -> dict:
        data = self.cleaned_data
        return {
            "require_sso": data["require_sso"],
            "break_glass_id": data["break_glass"],
            "allow_jit": data["allow_jit"],
        }


class EmailForm(forms.Form):
    email = forms.EmailField(label="Work e-mail address", max_length=254)
    next = forms.CharField(required=False, widget=forms.HiddenInput)
