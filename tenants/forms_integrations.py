"""Forms of the API-keys and webhooks pages."""

from __future__ import annotations

from django import forms

from tenants.apikeys import MAX_EXPIRES_DAYS
from tenants.models import ApiKeyRole, WebhookEvent
from tenants.webhooks.services import SUBSCRIBABLE


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=80, help_text="Where the key is used, e.g. “ci-pipeline” or “cloud-scanner”."
    )
    role = forms.ChoiceField(
        choices=(),
        help_text="Read only can write nothing; contributor can push evidence to any control.",
    )
    expires_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXPIRES_DAYS,
        label="Expires after (days)",
        help_text="Leave empty for a key that works until it is revoked.",
    )

    def __init__(self, *args: object, roles: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, ApiKeyRole(r).label) for r in roles]


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(
        max_length=500,
        label="URL",
        help_text="An https:// address on the public internet that accepts POST requests.",
    )
    description = forms.CharField(max_length=120, required=False)
    events = forms.MultipleChoiceField(
        choices=[(e, WebhookEvent(e).label) for e in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        help_text="Choose at least one.",
    )
