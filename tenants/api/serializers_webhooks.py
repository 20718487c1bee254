"""Input and output serializers of an organization's webhook endpoints and their deliveries."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from soc2app.api.serializers import StrictInput
from tenants.models import WebhookDelivery, WebhookEndpoint
from tenants.webhooks.services import SUBSCRIBABLE

EVENTS_HELP = "Events to receive: " + ", ".join(f"`{e}`" for e in SUBSCRIBABLE) + "."


def _events_field(**kwargs: object) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE),
        min_length=1,
        max_length=len(SUBSCRIBABLE),
        help_text=EVENTS_HELP,
        **kwargs,
    )


class WebhookEndpointOut(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.CharField(), help_text=EVENTS_HELP)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "active", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret = serializers.CharField(
        source="secret.reveal",
        help_text="Signing secret (HMAC-SHA256 of `<timestamp>.<body>`); shown only in this "
        "response: store it now.",
    )

    class Meta(WebhookEndpointOut.Meta):
        fields = [*WebhookEndpointOut.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointIn(StrictInput):
    url = serializers.CharField(
        max_length=500,
        help_text="An http(s) URL whose host resolves to public addresses only.",
    )
    events = _events_field()
    description = serializers.CharField(
        max_length=120, allow_blank=True, required=False, default=""
    )


FIXED = (
    "An endpoint's URL and secret do not change: subscribe the new URL (it gets its own "
    "secret), then remove this endpoint."
)


class WebhookEndpointUpdateIn(StrictInput):
    """Only the fields sent change."""

    events = _events_field(required=False)
    description = serializers.CharField(max_length=120, allow_blank=True, required=False)
    active = serializers.BooleanField(
        required=False, help_text="false pauses deliveries; true resumes them."
    )

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            fixed = [name for name in ("url", "secret") if name in data]
            if fixed:  # say why, rather than "unknown field"
                raise serializers.ValidationError({name: [FIXED] for name in fixed})
        return super().to_internal_value(data)


class DeliveryAttemptOut(serializers.Serializer):
    at = serializers.CharField(help_text="When the attempt was made (ISO 8601).")
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    ms = serializers.IntegerField(help_text="Duration in milliseconds.", allow_null=True)


class WebhookDeliveryOut(serializers.ModelSerializer):
    attempt_log = DeliveryAttemptOut(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "uuid",
            "event",
            "status",
            "status_code",
            "attempts",
            "next_retry_at",
            "last_error",
            "created_at",
            "delivered_at",
            "attempt_log",
        ]
        read_only_fields = fields
