"""Read-only API of an audit's risk register and vendors, under ``audits/<audit_pk>/``: the
auditor portal's pages as JSON.

* ``risks/`` (``?owner=&treatment=&level=``), ``risks/<id>/``, ``risks/export/?format=csv|xlsx``;
* ``risk-assessments/``, ``risk-assessments/<id>/``, and their files at ``<id>/csv/`` and
  ``<id>/pdf/`` (404 while there is none);
* ``vendors/`` (``?criticality=&subprocessor=&attention=``), ``vendors/<id>/``,
  ``vendors/<id>/documents/`` (each downloadable at ``documents/<doc id>/download/``),
  ``vendors/<id>/reviews/``, ``vendors/export/?format=csv|xlsx``.

Open to auditors, signed in, on the audits granted to them, and to the roles that manage the
register or the vendors (and their keys) on every audit; everyone else gets a 403, another
audit or organization a 404. Every file downloaded and every export taken is in the
organization's activity log (a HEAD reads nothing and logs nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controls.models import Audit, System
from controls.selectors import audit_get_for
from evidence.side_files import side_file_response
from reports import selectors
from reports import selectors_portal_registers as registers
from reports.api.exports import EXPORT_RESPONSES, FORMAT_PARAM, requested_format
from reports.api.serializers_portal_registers import PortalRiskAssessmentOut
from reports.portal_files import log_export, logged_file
from reports.tabular import table_response
from risks import exports as risk_exports
from risks import matrix as matrices
from risks import selectors as risk_selectors
from risks.api.serializers import RiskFilterIn, RiskOut
from risks.api.views import FILTERS as RISK_FILTERS
from risks.models import Risk, RiskAssessment
from risks.selectors import RegisterFilter
from soc2app.api.negotiation import AnyAccept
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.client_ip import client_ip
from soc2app.errors import NotFound
from tenants.models import Role
from tenants.permissions import Action
from vendors import exports as vendor_exports
from vendors import selectors as vendor_selectors
from vendors.api.output import document_out, vendor_out
from vendors.api.serializers import (
    VendorDocumentOut,
    VendorFilterIn,
    VendorOut,
    VendorReviewOut,
)
from vendors.models import Vendor

AUDIT_PARAM = OpenApiParameter(
    "audit_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The audit's id."
)
FILE_RESPONSES = {
    (200, media_type): OpenApiResponse(OpenApiTypes.BINARY)
    for media_type in ("application/pdf", "text/csv", "application/octet-stream")
}


def _found(getter: Any, *args: object) -> Any:
    try:
        return getter(*args)
    except Http404 as exc:
        raise NotFound(str(exc) or "Not found.") from None


class _RegisterBase(TenantViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    admits_auditors = True
    filter_backends: list = []
    http_method_names = ["get", "head", "options"]
    #: Who previews these reads beside the granted auditors.
    manages: Action

    def _audit(self) -> Audit:
        if getattr(self, "_audit_found", None) is None:
            pk = object_id(self.kwargs["audit_pk"], "audit")
            if self.principal.role == Role.AUDITOR:
                self._audit_found = _found(selectors.portal_audit_get, self.principal, pk)
            else:
                self.require(self.manages)
                self._audit_found = _found(audit_get_for, self.organization, pk)
        return self._audit_found

    def _export(self, table_for: Any, filters: object, stem: Any, what: str) -> Any:
        fmt = requested_format(self.request.query_params.get("format"))
        audit, today = self._audit(), timezone.localdate()
        table = table_for(self.organization, filters, today)
        log_export(
            membership=self.principal,
            target=audit,
            object_repr=f"{what} ({audit.name})",
            client_ip=client_ip(self.request._request),
            fmt=fmt,
        )
        return table_response(table, fmt, stem(self.organization, today))

    def _file(self, response: Any, *, target: object, object_repr: str, sha256: str) -> Any:
        if self.request.method != "GET":
            return response  # a HEAD sends no content: nothing was read
        return logged_file(
            response,
            membership=self.principal,
            target=target,
            object_repr=object_repr,
            sha256=sha256,
            client_ip=client_ip(self.request._request),
        )


@extend_schema(parameters=[AUDIT_PARAM], tags=["audit risks"])
class PortalRiskViewSet(_RegisterBase, mixins.RetrieveModelMixin):
    model = Risk
    serializer_class = RiskOut
    manages = Action.RISK_MANAGE

    def _filters(self) -> RegisterFilter:
        data = RiskFilterIn(data=self.request.query_params)
        data.is_valid(raise_exception=True)
        return RegisterFilter(**data.validated_data)

    def _levels(self, risks: Iterable[Risk]) -> None:
        matrix, today = matrices.matrix_read(self.organization), timezone.localdate()
        for risk in risks:
            risk.inherent_level = matrices.level_of(matrix, risk.inherent_score)
            risk.residual_level = matrices.level_of(matrix, risk.residual_score)
            risk.acceptance_expired = risk_selectors.acceptance_expired(risk, today)

    def get_scoped_queryset(self) -> QuerySet[Risk]:
        self._audit()
        org = self.organization
        matrix = matrices.matrix_read(org)
        return risk_selectors.risks_list(org, matrix, self._filters()).prefetch_related(
            Prefetch("systems", queryset=System.objects.for_org(org))
        )

    @extend_schema(
        summary="The organization's risk register",
        description="Highest residual score first, with scores, levels and acceptance.",
        parameters=RISK_FILTERS,
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        self._levels(page)
        return self.get_paginated_response(RiskOut(page, many=True).data)

    @extend_schema(summary="A risk", description="Its scores, treatment, acceptance, links.")
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        self._audit()
        risk = risk_selectors.risk_get(self.organization, object_id(kwargs["pk"], "risk"))
        self._levels([risk])
        return Response(RiskOut(risk).data)

    @extend_schema(
        summary="Export the register (CSV or XLSX)",
        description="Every risk matching the filters; logged in the activity log.",
        parameters=[FORMAT_PARAM, *RISK_FILTERS],
        responses=EXPORT_RESPONSES,
    )
    @action(detail=False, methods=["get"], content_negotiation_class=AnyAccept)
    def export(self, request: Request, *args: object, **kwargs: object) -> Any:
        self._audit()
        return self._export(
            risk_exports.register_table, self._filters(), risk_exports.filename, "Risk register"
        )


@extend_schema(parameters=[AUDIT_PARAM], tags=["audit risks"])
class PortalRiskAssessmentViewSet(_RegisterBase, mixins.RetrieveModelMixin):
    model = RiskAssessment
    serializer_class = PortalRiskAssessmentOut
    manages = Action.RISK_MANAGE

    def get_scoped_queryset(self) -> QuerySet[RiskAssessment]:
        return registers.assessments(self._audit())

    def _marked(self, rows: Iterable[RiskAssessment]) -> list[RiskAssessment]:
        audit = self._audit()
        rows = list(rows)
        for row in rows:
            row.after_period = registers.after_period(audit, row)
        return rows

    def get_object(self) -> RiskAssessment:
        return _found(registers.assessment_get, self._audit(), self.kwargs["pk"])

    @extend_schema(summary="The organization's risk assessments", description="Newest first.")
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        page = self._marked(self.paginate_queryset(self.get_queryset()))
        return self.get_paginated_response(PortalRiskAssessmentOut(page, many=True).data)

    @extend_schema(summary="A risk assessment")
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        (one,) = self._marked([self.get_object()])
        return Response(PortalRiskAssessmentOut(one).data)

    def _download(self, kind: str) -> Any:
        assessment = self.get_object()
        file = _found(registers.assessment_file, assessment, kind)
        response = _found(side_file_response, file.key, file.name, file.content_type, "The file")
        return self._file(
            response,
            target=assessment,
            object_repr=f"Risk assessment of {assessment.performed_on:%Y-%m-%d} ({kind.upper()})",
            sha256=file.sha256,
        )

    @extend_schema(summary="The frozen register as CSV", responses=FILE_RESPONSES)
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAccept)
    def csv(self, request: Request, *args: object, **kwargs: object) -> Any:
        return self._download("csv")

    @extend_schema(summary="The frozen register as PDF", responses=FILE_RESPONSES)
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAccept)
    def pdf(self, request: Request, *args: object, **kwargs: object) -> Any:
        return self._download("pdf")


@extend_schema(parameters=[AUDIT_PARAM], tags=["audit vendors"])
class PortalVendorViewSet(_RegisterBase, mixins.RetrieveModelMixin):
    model = Vendor
    serializer_class = VendorOut
    manages = Action.VENDOR_MANAGE

    def get_scoped_queryset(self) -> QuerySet[Vendor]:
        return Vendor.objects.for_org(self.organization)

    def _filters(self) -> vendor_selectors.VendorFilter:
        data = VendorFilterIn(data=self.request.query_params)
        data.is_valid(raise_exception=True)
        return vendor_selectors.VendorFilter(**data.validated_data)

    def _vendor(self) -> Vendor:
        self._audit()
        pk = object_id(self.kwargs["pk"], "vendor")
        return vendor_selectors.vendor_get(self.organization, pk)

    @extend_schema(
        summary="The organization's vendors with their document status",
        parameters=[VendorFilterIn],
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        self._audit()
        rows = vendor_selectors.vendor_rows(
            self.organization, timezone.localdate(), self._filters()
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([vendor_out(r) for r in page])

    @extend_schema(summary="A vendor")
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        row = vendor_selectors.vendor_row(self.organization, self._vendor(), timezone.localdate())
        return Response(vendor_out(row))

    @extend_schema(
        summary="A vendor's documents, with status", responses=VendorDocumentOut(many=True)
    )
    @action(detail=True, methods=["get"])
    def documents(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = vendor_selectors.documents_of(
            self.organization, self._vendor(), timezone.localdate()
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([document_out(r) for r in page])

    @extend_schema(
        summary="Download a vendor's document",
        parameters=[OpenApiParameter("doc_pk", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=FILE_RESPONSES,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"documents/(?P<doc_pk>[^/.]+)/download",
        content_negotiation_class=AnyAccept,
    )
    def document_download(self, request: Request, *args: object, **kwargs: object) -> Any:
        vendor = self._vendor()
        doc = vendor_selectors.document_get(
            self.organization, vendor, object_id(kwargs["doc_pk"], "document")
        )
        response = _found(
            side_file_response, doc.file.name, doc.file_name, doc.content_type, "The document"
        )
        return self._file(
            response,
            target=doc,
            object_repr=f"{doc.get_kind_display()} of {vendor.name}: {doc.file_name}",
            sha256=doc.sha256,
        )

    @extend_schema(summary="A vendor's reviews", responses=VendorReviewOut(many=True))
    @action(detail=True, methods=["get"])
    def reviews(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = vendor_selectors.reviews_of(self.organization, self._vendor())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(VendorReviewOut(page, many=True).data)

    @extend_schema(
        summary="Export the vendor list (CSV or XLSX)",
        description="Every vendor matching the filters with document status, last and next "
        "review; logged in the activity log.",
        parameters=[FORMAT_PARAM, VendorFilterIn],
        responses=EXPORT_RESPONSES,
    )
    @action(detail=False, methods=["get"], content_negotiation_class=AnyAccept)
    def export(self, request: Request, *args: object, **kwargs: object) -> Any:
        self._audit()
        return self._export(
            vendor_exports.vendor_table, self._filters(), vendor_exports.filename, "Vendors"
        )
