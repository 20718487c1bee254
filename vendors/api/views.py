"""The vendor API under /api/v1/orgs/<slug>/vendors/ (managers and their keys): vendors with
their document status, a vendor's documents (list, multipart upload) and reviews (list,
record)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from reports.api.exports import EXPORT_RESPONSES, FORMAT_PARAM, requested_format
from reports.tabular import table_response
from soc2app.api.imports import import_response, import_upload
from soc2app.api.negotiation import AnyAccept
from soc2app.api.parsers import SafeJSONParser
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.csv_import import ImportRejected
from soc2app.errors import ValidationFailed
from soc2app.uploads import accepts_uploads, upload_problem
from tenants.models import Membership
from vendors import exports, imports, selectors, services, services_rules
from vendors.api.output import document_out, vendor_out
from vendors.api.serializers import (
    VendorDocumentIn,
    VendorDocumentOut,
    VendorFilterIn,
    VendorImportIn,
    VendorImportOut,
    VendorIn,
    VendorOut,
    VendorPatchIn,
    VendorReviewIn,
    VendorReviewOut,
    VendorRulesIn,
    VendorRulesOut,
)
from vendors.models import Vendor
from vendors.rules import rules_row_read


@extend_schema(tags=["vendors"])
@extend_schema_view(
    list=extend_schema(summary="Vendors with their document status", parameters=[VendorFilterIn]),
    retrieve=extend_schema(summary="A vendor"),
)
@accepts_uploads
class VendorViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    model = Vendor
    serializer_class = VendorOut
    filter_backends: list = []
    parser_classes = [SafeJSONParser, MultiPartParser]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.require(services.MANAGE)  # managers-only for now, reads included

    def get_scoped_queryset(self):
        return Vendor.objects.for_org(self.organization)

    def _vendor(self) -> Vendor:
        pk = object_id(self.kwargs["pk"], "vendor")
        return selectors.vendor_get(self.organization, pk)

    def _one(self, vendor: Vendor, code: int = status.HTTP_200_OK) -> Response:
        row = selectors.vendor_row(self.organization, vendor, timezone.localdate())
        return Response(vendor_out(row), status=code)

    def _owner(self, values: dict[str, Any]) -> None:
        if "owner" in values and values["owner"] is not None:
            pk = values["owner"]
            values["owner"] = Membership.objects.for_org(self.organization).filter(pk=pk).first()
            if values["owner"] is None:
                raise ValidationFailed("No such member in this organization.", field="owner")

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = VendorFilterIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        filters = selectors.VendorFilter(**data.validated_data)
        rows = selectors.vendor_rows(self.organization, timezone.localdate(), filters)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([vendor_out(r) for r in page])

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self._one(self._vendor())

    @extend_schema(
        summary="Export the vendor list (CSV or XLSX)",
        description="Every vendor matching the filters (no pagination): document status and "
        "what each tracked document counts until, the last review and the next one.",
        parameters=[FORMAT_PARAM, VendorFilterIn],
        responses=EXPORT_RESPONSES,
    )
    @action(detail=False, methods=["get"], content_negotiation_class=AnyAccept)
    def export(self, request: Request, *args: object, **kwargs: object) -> Any:
        fmt = requested_format(request.query_params.get("format"))
        data = VendorFilterIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        today = timezone.localdate()
        filters = selectors.VendorFilter(**data.validated_data)
        table = exports.vendor_table(self.organization, filters, today)
        return table_response(table, fmt, exports.filename(self.organization, today))

    @extend_schema(summary="Add a vendor", request=VendorIn, responses={201: VendorOut})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = VendorIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        self._owner(values)
        vendor = services.vendor_create(membership=self.principal, **values)
        return self._one(vendor, status.HTTP_201_CREATED)

    @extend_schema(summary="Change a vendor", request=VendorPatchIn, responses=VendorOut)
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        vendor = self._vendor()
        data = VendorPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        self._owner(values)
        services.vendor_update(membership=self.principal, vendor=vendor, **values)
        return self._one(vendor)

    @extend_schema(
        methods=["GET"],
        summary="A vendor's documents, with status",
        responses=VendorDocumentOut(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a document (multipart)",
        description="Multipart `file` with `kind` (and `period_end` for a SOC 2 report or a "
        "bridge letter, `expires_on` for a certificate). Checked like evidence uploads (type, "
        "size, malware when a scanner is configured): a refused file is a 400 and nothing is "
        "stored. A new document never replaces one.",
        request={"multipart/form-data": VendorDocumentIn},
        responses={201: VendorDocumentOut},
    )
    @action(detail=True, methods=["get", "post"])
    def documents(self, request: Request, *args: object, **kwargs: object) -> Response:
        vendor = self._vendor()
        today = timezone.localdate()
        if request.method == "GET":
            rows = selectors.documents_of(self.organization, vendor, today)
            page = self.paginate_queryset(rows)
            return self.get_paginated_response([document_out(r) for r in page])
        if not request.content_type.startswith("multipart/"):
            raise ValidationFailed("Send the document as multipart/form-data in the field 'file'.")
        if (problem := upload_problem(request)) is not None:
            raise problem
        data = VendorDocumentIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        doc = services.document_add(
            membership=self.principal,
            vendor=vendor,
            kind=values["kind"],
            upload=values["file"],
            period_end=values.get("period_end"),
            expires_on=values.get("expires_on"),
        )
        row = next(
            r
            for r in selectors.documents_of(self.organization, vendor, today)
            if r.document.pk == doc.pk
        )
        return Response(document_out(row), status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], summary="A vendor's reviews", responses=VendorReviewOut(many=True)
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a review",
        description="The vendor's next review date follows its criticality.",
        request=VendorReviewIn,
        responses={201: VendorReviewOut},
    )
    @action(detail=True, methods=["get", "post"])
    def reviews(self, request: Request, *args: object, **kwargs: object) -> Response:
        vendor = self._vendor()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.reviews_of(self.organization, vendor))
            return self.get_paginated_response(VendorReviewOut(page, many=True).data)
        data = VendorReviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_record(
            membership=self.principal, vendor=vendor, **data.validated_data
        )
        return Response(VendorReviewOut(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], summary="The organization's vendor rules", responses=VendorRulesOut
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change the vendor rules",
        description="How long documents count and how often vendors are reviewed, by "
        "criticality (a more critical vendor at least as often). Statuses follow at once; "
        "next review dates still derived from a vendor's latest review move with its interval.",
        request=VendorRulesIn,
        responses=VendorRulesOut,
    )
    @action(detail=False, methods=["get", "patch"])
    def rules(self, request: Request, *args: object, **kwargs: object) -> Response:
        if request.method == "PATCH":
            data = VendorRulesIn(data=request.data)
            data.is_valid(raise_exception=True)
            row = services_rules.rules_update(membership=self.principal, **data.validated_data)
            return Response(VendorRulesOut(row).data)
        return Response(VendorRulesOut(rules_row_read(self.organization)).data)

    @extend_schema(
        summary="Import vendors from a CSV file",
        description="Multipart `file` (UTF-8 CSV with the header "
        f"`{','.join(imports.COLUMNS)}`; `name` required; at most {imports.MAX_ROWS:,} rows). "
        "A row whose name matches a vendor's (case-insensitive) updates it. With "
        "`dry_run=true` nothing is written and the answer lists each row (new, update with the "
        "columns it changes, or unchanged) and every refused row (row, column, message). "
        "Without it the file is imported all or nothing: 200 with the counts, or 400 (`code` "
        "`import_rejected`) with the refused rows under `errors.rows`.",
        request={"multipart/form-data": VendorImportIn},
        responses={200: VendorImportOut},
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_csv(self, request: Request, *args: object, **kwargs: object) -> Response:
        upload = import_upload(request, VendorImportIn, imports.MAX_BYTES)
        if upload.dry_run:
            plan = imports.plan_import(self.principal, upload.data)
        else:
            try:
                plan = imports.import_apply(
                    membership=self.principal, data=upload.data, name=upload.name
                )
            except ImportRejected as exc:
                plan = exc.plan
        rows = [
            {
                "row": line.number,
                "name": line.name,
                "result": "new" if line.is_new else "update" if line.changes else "unchanged",
                "vendor": line.vendor_id,
                "changed": [column for column, _, _ in plan.shown(line)],
            }
            for line in plan.lines
        ]
        body = VendorImportOut(
            {
                "dry_run": upload.dry_run,
                "ok": plan.ok,
                "sha256": plan.sha256,
                "created": len(plan.to_create),
                "updated": len(plan.to_update),
                "unchanged": plan.unchanged,
                "rows": rows,
                "error_count": plan.error_count,
                "errors": plan.errors,
            }
        ).data
        return import_response(plan, body, dry_run=upload.dry_run)
