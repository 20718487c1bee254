"""API of evidence: a control's items with their versions, adding a version (a file as
multipart, a link or a pushed JSON record), one version, and its review. Each action
validates input, calls an evidence service or selector and serializes; permissions are the
services' (the control's owner or a compliance manager submits; a manager reviews)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from controls.models import Control
from controls.operation import span_warnings
from evidence import selectors, services
from evidence.api.serializers import (
    DataIn,
    FileIn,
    ItemOut,
    LinkIn,
    ReviewIn,
    VersionCreatedOut,
    VersionDetailOut,
)
from evidence.downloads import version_file_response
from evidence.filenames import EXTENSION_FOR_TYPE
from evidence.models import EvidenceItem, EvidenceKind, EvidenceVersion
from soc2app.api.negotiation import AnyAccept
from soc2app.api.parsers import SafeJSONParser
from soc2app.api.serializers import ErrorOut
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.client_ip import client_ip
from soc2app.errors import ValidationFailed
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from tenants.permissions import Action

CONTROL_PARAM = OpenApiParameter(
    "control_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The control's id."
)
JSON_SUBMIT = PolymorphicProxySerializer(
    component_name="EvidencePush",
    serializers={"link": LinkIn, "data": DataIn},
    resource_type_field_name="kind",
)


class _EvidenceBase(TenantViewSetMixin):
    filter_backends: list = []

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "organization": self.organization}


@extend_schema(parameters=[CONTROL_PARAM], tags=["evidence"])
@extend_schema_view(
    list=extend_schema(
        summary="A control's evidence",
        description="Items that were not removed, newest first, each with its versions.",
        responses=ItemOut(many=True),
    ),
)
@accepts_uploads
class ControlEvidenceViewSet(_EvidenceBase, mixins.ListModelMixin, viewsets.GenericViewSet):
    model = EvidenceItem
    serializer_class = ItemOut
    parser_classes = [SafeJSONParser, MultiPartParser]

    def _control(self) -> Control:
        return selectors.control_get_for(
            self.organization, object_id(self.kwargs["control_pk"], "control")
        )

    def get_scoped_queryset(self) -> QuerySet[EvidenceItem]:
        # Not used for listing (``evidence_for_control`` reads items and versions in two
        # queries); kept so nothing can list items outside the organization.
        return EvidenceItem.objects.for_org(self.organization)

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        items = selectors.evidence_for_control(self.organization, self._control())
        page = self.paginate_queryset(items)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Add evidence to a control",
        description="A file as `multipart/form-data` (`file`, `effective_start`, optional "
        "`effective_end`, `title`, `description`, `item`), or JSON: "
        '`{"kind": "link", "url": ...}` or `{"kind": "data", "data": {...}}` with the same '
        "dates. Each submission is a new version (of `item`, or of a new item).",
        request={"multipart/form-data": FileIn, "application/json": JSON_SUBMIT},
        responses={201: VersionCreatedOut},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        control = self._control()
        permissions.require_evidence_submit(self.principal, control)
        if request.content_type.startswith("multipart/"):
            serializer_class: type = FileIn
            request.data  # noqa: B018 - parsing is what lets the upload handler see the body
            if (problem := upload_problem(request)) is not None:
                raise problem  # too large, or incomplete: not "this field is required"
        else:
            kind = request.data.get("kind") if isinstance(request.data, dict) else None
            # Any JSON value may arrive as "kind": only the two strings choose a serializer.
            serializers_by_kind = {EvidenceKind.LINK: LinkIn, EvidenceKind.DATA: DataIn}
            serializer_class = serializers_by_kind.get(kind) if isinstance(kind, str) else None
            if serializer_class is None:
                raise ValidationFailed(
                    'Send {"kind": "link", ...} or {"kind": "data", ...} as JSON, or upload '
                    "a file as multipart/form-data.",
                    field="kind",
                )
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("kind", None)
        item_id = values.pop("item")
        common = {
            "membership": self.principal,
            "control": control,
            "item": selectors.item_get_for(self.organization, item_id) if item_id else None,
            **values,
        }
        if serializer_class is FileIn:
            common["upload"] = common.pop("file")
            version = services.evidence_submit_file(**common)
        elif serializer_class is LinkIn:
            version = services.evidence_add_link(**common)
        else:
            version = services.evidence_push_data(**common)
        version = selectors.version_get_for(self.organization, version.pk)
        version.span_warnings = span_warnings(
            control, version.effective_start, version.effective_end
        )
        body = VersionCreatedOut(version, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["evidence"])
@extend_schema_view(
    retrieve=extend_schema(
        summary="One evidence version",
        description="A data version's record is in `data`; reading it is recorded in the "
        "activity log like a download in the browser.",
    )
)
class EvidenceVersionViewSet(_EvidenceBase, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    model = EvidenceVersion
    serializer_class = VersionDetailOut

    def get_scoped_queryset(self) -> QuerySet[EvidenceVersion]:
        return EvidenceVersion.objects.for_org(self.organization)

    def get_object(self) -> EvidenceVersion:
        version = selectors.version_get_for(self.organization, self.kwargs["pk"])
        return version

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        version = self.get_object()
        body = self.get_serializer(version).data
        if body.get("data") is not None and request.method == "GET":
            # The record's content is being read: logged like the browser download (a HEAD
            # sends no content, so it reads nothing, as for the download action).
            services.evidence_download_record(
                membership=self.principal, version=version, client_ip=client_ip(request)
            )
        return Response(body)

    @extend_schema(
        summary="Download a version's file or data",
        description="A file version's bytes, or a data version's canonical JSON, as an "
        "attachment named for the detected type (`Content-Disposition`); their SHA-256 is "
        "the version's `sha256`. Every download is recorded in the activity log. A link has "
        "no file (409); a file held for or failing its malware scan cannot be fetched (409).",
        responses={
            **{
                (200, media_type): OpenApiResponse(
                    # Data versions and JSON files are JSON; every other type is bytes.
                    OpenApiTypes.OBJECT
                    if media_type == "application/json"
                    else OpenApiTypes.BINARY,
                    description="The file, in its detected type.",
                )
                for media_type in EXTENSION_FOR_TYPE
            },
            409: OpenApiResponse(ErrorOut, description="No file to send (yet)."),
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAccept)
    def download(self, request: Request, *args: object, **kwargs: object) -> HttpResponse:
        return version_file_response(
            self.get_object(),
            membership=self.principal,
            client_ip=client_ip(request),
            record=request.method == "GET",
        )

    @extend_schema(
        summary="Accept or reject a version",
        request=ReviewIn,
        responses=VersionDetailOut,
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, *args: object, **kwargs: object) -> Response:
        version = self.get_object()
        self.require(Action.EVIDENCE_REVIEW)
        data = ReviewIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.evidence_review(membership=self.principal, version=version, **data.validated_data)
        version = selectors.version_get_for(self.organization, version.pk)
        return Response(self.get_serializer(version).data)
