"""API of an organization's webhook endpoints: subscribe, change, pause, remove, send a test
event and read the delivery log. Owners, admins and ``admin`` API keys only (every action,
reads included: endpoint URLs and delivery errors are the organization's configuration)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import NotFound
from tenants.api.serializers_webhooks import (
    WebhookDeliveryOut,
    WebhookEndpointCreatedOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointUpdateIn,
)
from tenants.models import WebhookEndpoint
from tenants.permissions import Action
from tenants.webhooks import services


@extend_schema(tags=["webhooks"])
@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints"),
    retrieve=extend_schema(summary="A webhook endpoint"),
    destroy=extend_schema(
        summary="Remove a webhook endpoint",
        description="Its delivery log goes with it; the activity log keeps the removal.",
        responses={204: None},
    ),
)
class WebhookEndpointViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Endpoints that receive signed events (`evidence.stale`, `evidence.expiring`,
    `report.ready`, `check.failed`, `check.recovered`, `finding.overdue`). Each POST carries `X-Soc2-Signature: sha256=<HMAC-SHA256 of
    "<X-Soc2-Timestamp>.<body>" with the endpoint's secret>`."""

    model = WebhookEndpoint
    serializer_class = WebhookEndpointOut
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # Shown once: a replayed subscription (Idempotency-Key) answers it as null.
    idempotency_redact = ("secret",)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.require(Action.WEBHOOK_MANAGE)

    def get_scoped_queryset(self) -> QuerySet[WebhookEndpoint]:
        return services.endpoints_list(self.organization)

    def get_object(self) -> WebhookEndpoint:
        pk = object_id(self.kwargs["pk"], "webhook endpoint")
        found = self.get_scoped_queryset().filter(pk=pk).first()
        if found is None:
            raise NotFound("No such webhook endpoint.")
        return found

    @extend_schema(
        summary="Subscribe a webhook endpoint",
        description="The response carries the signing secret, once.",
        request=WebhookEndpointIn,
        responses={201: WebhookEndpointCreatedOut},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = WebhookEndpointIn(data=request.data)
        data.is_valid(raise_exception=True)
        # The new endpoint still holds its secret in the clear (``Secret``): shown this once.
        endpoint, _secret = services.webhook_endpoint_create(
            membership=self.principal, **data.validated_data
        )
        return Response(WebhookEndpointCreatedOut(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a webhook endpoint's events or description, or pause it",
        request=WebhookEndpointUpdateIn,
        responses=WebhookEndpointOut,
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        endpoint = self.get_object()
        data = WebhookEndpointUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            membership=self.principal, endpoint=endpoint, **data.validated_data
        )
        return Response(WebhookEndpointOut(endpoint).data)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.webhook_endpoint_delete(membership=self.principal, endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test event",
        description="Queues a `webhook.test` delivery to this endpoint; follow it in the "
        "delivery log.",
        request=None,
        responses={202: WebhookDeliveryOut},
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, *args: object, **kwargs: object) -> Response:
        delivery = services.webhook_send_test(membership=self.principal, endpoint=self.get_object())
        return Response(WebhookDeliveryOut(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Delivery log of an endpoint",
        description="Newest first; each delivery lists its attempts.",
        responses=WebhookDeliveryOut(many=True),
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = services.deliveries_for_endpoint(self.get_object()).order_by("-created_at", "-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliveryOut(page, many=True).data)
