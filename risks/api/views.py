"""The risk register API under /api/v1/orgs/<slug>/risks/: list (filters owner, treatment,
level), read, create, adopt from the library, change, delete; the library and the matrix.
Managers only (owners, admins, compliance managers and their keys), reading too: the
register is not open to contributors, auditors or read-only keys in this increment."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controls.models import System
from reports.api.exports import EXPORT_RESPONSES, FORMAT_PARAM, requested_format
from reports.tabular import table_response
from risks import exports, selectors, services, services_matrix
from risks import matrix as matrices
from risks.api.serializers import (
    RiskAdoptIn,
    RiskFilterIn,
    RiskIn,
    RiskLibraryOut,
    RiskMatrixIn,
    RiskMatrixOut,
    RiskOut,
    RiskPatchIn,
)
from risks.models import Risk, Treatment
from risks.selectors import RegisterFilter
from soc2app.api.negotiation import AnyAccept
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from tenants.permissions import Action

FILTERS = [
    OpenApiParameter("owner", int, description="Id of the owner (a member)."),
    OpenApiParameter("treatment", str, enum=Treatment.values),
    OpenApiParameter(
        "level", str, enum=["low", "medium", "high", "critical"], description="Residual level."
    ),
    OpenApiParameter(
        "beyond",
        int,
        description="Risks with a likelihood or impact (inherent or residual) above this: "
        "those to rescore before shrinking the matrix to this size.",
    ),
]


@extend_schema(tags=["risks"])
@extend_schema_view(
    list=extend_schema(summary="List the risk register", parameters=FILTERS),
    retrieve=extend_schema(summary="A risk"),
    destroy=extend_schema(summary="Delete a risk"),
)
class RiskViewSet(
    TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    model = Risk
    serializer_class = RiskOut
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.require(Action.RISK_MANAGE)  # reading the register too, for now

    def _levels(self, risks: Iterable[Risk]) -> None:
        matrix = matrices.matrix_read(self.organization)
        today = timezone.localdate()
        for risk in risks:
            risk.inherent_level = matrices.level_of(matrix, risk.inherent_score)
            risk.residual_level = matrices.level_of(matrix, risk.residual_score)
            risk.acceptance_expired = selectors.acceptance_expired(risk, today)

    def get_scoped_queryset(self) -> QuerySet[Risk]:
        matrix = matrices.matrix_read(self.organization)
        data = RiskFilterIn(data=self.request.query_params)
        data.is_valid(raise_exception=True)
        return selectors.risks_list(
            self.organization, matrix, RegisterFilter(**data.validated_data)
        ).prefetch_related(Prefetch("systems", queryset=System.objects.for_org(self.organization)))

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        self._levels(page)
        return self.get_paginated_response(RiskOut(page, many=True).data)

    def get_object(self) -> Risk:
        return selectors.risk_get(self.organization, object_id(self.kwargs["pk"], "risk"))

    def _one(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        risk = selectors.risk_get(self.organization, pk)
        self._levels([risk])
        return Response(RiskOut(risk).data, status=code)

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self._one(self.get_object().pk)

    @extend_schema(summary="Add a risk", request=RiskIn, responses={201: RiskOut})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = RiskIn(data=request.data)
        data.is_valid(raise_exception=True)
        risk = services.risk_create(membership=self.principal, **data.validated_data)
        return self._one(risk.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a risk (scores, treatment, acceptance, links)",
        request=RiskPatchIn,
        responses=RiskOut,
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        risk = self.get_object()
        data = RiskPatchIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.risk_update(membership=self.principal, risk=risk, **data.validated_data)
        return self._one(risk.pk)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.risk_delete(membership=self.principal, risk=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Adopt a risk from the library", request=RiskAdoptIn, responses={201: RiskOut}
    )
    @action(detail=False, methods=["post"])
    def adopt(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = RiskAdoptIn(data=request.data)
        data.is_valid(raise_exception=True)
        risk = services.risk_adopt(
            membership=self.principal, key=data.validated_data["library_key"]
        )
        return self._one(risk.pk, status.HTTP_201_CREATED)

    @extend_schema(summary="The library of common risks", responses=RiskLibraryOut(many=True))
    @action(detail=False, methods=["get"])
    def library(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = [
            {**entry.__dict__, "adopted_risk": adopted}
            for entry, adopted in selectors.library_rows(self.organization)
        ]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RiskLibraryOut(page, many=True).data)

    @extend_schema(
        methods=["GET"], summary="The organization's risk matrix", responses=RiskMatrixOut
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change the risk matrix",
        description="Size, labels (one per step), level thresholds and the assessment "
        "interval. Shrinking while risks are scored beyond the new size is a 400 "
        "(`risks_beyond_matrix`; list them with `?beyond=SIZE` on the register) and "
        "changes nothing.",
        request=RiskMatrixIn,
        responses=RiskMatrixOut,
    )
    @action(detail=False, methods=["get", "patch"])
    def matrix(self, request: Request, *args: object, **kwargs: object) -> Response:
        if request.method == "PATCH":
            data = RiskMatrixIn(data=request.data, partial=True)
            data.is_valid(raise_exception=True)
            updated = services_matrix.matrix_update(
                membership=self.principal, **data.validated_data
            )
            return Response(RiskMatrixOut(updated).data)
        return Response(RiskMatrixOut(matrices.matrix_read(self.organization)).data)

    @extend_schema(
        summary="Export the register (CSV or XLSX)",
        description="Every risk matching the filters (no pagination), highest residual score "
        "first: scores and levels, treatment, acceptance, controls, systems, next review.",
        parameters=[FORMAT_PARAM, *FILTERS],
        responses=EXPORT_RESPONSES,
    )
    @action(detail=False, methods=["get"], content_negotiation_class=AnyAccept)
    def export(self, request: Request, *args: object, **kwargs: object) -> Any:
        fmt = requested_format(request.query_params.get("format"))
        data = RiskFilterIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        today = timezone.localdate()
        filters = RegisterFilter(**data.validated_data)
        table = exports.register_table(self.organization, filters, today)
        return table_response(table, fmt, exports.filename(self.organization, today))
