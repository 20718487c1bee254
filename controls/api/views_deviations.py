"""API of deviations: a control that did not operate in a period, with the management
response. Everyone in the organization reads them; compliance managers record and delete."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from controls import deviations, selectors
from controls.api.serializers_deviations import DeviationIn, DeviationOut
from controls.models import Deviation
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import ValidationFailed
from tenants.permissions import Action


@extend_schema(tags=["controls"])
@extend_schema_view(
    list=extend_schema(
        summary="List deviations",
        parameters=[OpenApiParameter("control", int, description="Only this control's")],
    ),
    retrieve=extend_schema(summary="A deviation with its management response"),
    destroy=extend_schema(summary="Delete a deviation", responses={204: None}),
)
class DeviationViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    model = Deviation
    serializer_class = DeviationOut
    filter_backends: list = []
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_scoped_queryset(self) -> QuerySet[Deviation]:
        rows = deviations.deviations_list(self.organization)
        control = self.request.query_params.get("control") if self.action == "list" else None
        if control:
            value = control.strip()
            if not (value.isascii() and value.isdigit() and len(value) < 19):
                raise ValidationFailed("Give the control as its id.", field="control")
            rows = rows.filter(control_id=int(value))
        return rows

    def get_object(self) -> Deviation:
        pk = object_id(self.kwargs["pk"], "deviation")
        return deviations.deviation_get_for(self.organization, pk)

    @extend_schema(summary="Record a deviation", request=DeviationIn, responses={201: DeviationOut})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        self.require(Action.CONTROL_MANAGE)
        data = DeviationIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        control = selectors.control_get_for(self.organization, values.pop("control"))
        deviation = deviations.deviation_record(
            membership=self.principal, control=control, **values
        )
        fetched = deviations.deviation_get_for(self.organization, deviation.pk)
        return Response(DeviationOut(fetched).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        deviation = self.get_object()
        self.require(Action.CONTROL_MANAGE)
        deviations.deviation_delete(membership=self.principal, deviation=deviation)
        return Response(status=status.HTTP_204_NO_CONTENT)
