"""The trust center API under /api/v1/orgs/<slug>/trust/: its settings (and the custom
domain's check), the controls shown, the documents offered and the requests for private
documents. Changes follow the settings pages' rule (``trust.permissions.MANAGE``: owners and
admins, signed in; no API key, since what the page says speaks for the organization) and
call the same services, so the same checks and activity log; reads are also open to admin
keys (``trust.permissions.READ``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from controls.models import Audit
from policies.models import PolicyVersion
from soc2app.api.parsers import SafeJSONParser
from soc2app.api.serializers import ErrorOut
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import ValidationFailed
from soc2app.uploads import accepts_uploads, upload_problem
from trust import domains, selectors, services
from trust.api.serializers import (
    TrustControlsSerializer,
    TrustDocumentIn,
    TrustDocumentOut,
    TrustRequestFilterIn,
    TrustRequestOut,
    TrustSettingsIn,
    TrustSettingsOut,
)
from trust.models import TrustCenter, TrustControl, TrustDocument, TrustRequest
from trust.permissions import MANAGE, READ
from trust.requests import request_decide

ALREADY_DECIDED = OpenApiResponse(ErrorOut, description="The request was decided already.")


class _TrustViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    """Owners and admins: signed in to change anything; reads also with an admin key."""

    filter_backends: list = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Reads too are gated: the requests hold visitors' names, e-mails and addresses.
        self.require(READ if request.method in SAFE_METHODS else MANAGE)


def _in_org(model: type, org: Any, pk: int | None, field: str, what: str) -> Any:
    """``pk`` of ``org`` (one query), or a 400 naming ``field``; None stays None."""
    if pk is None:
        return None
    found = model.objects.for_org(org).filter(pk=pk).first()
    if found is None:
        raise ValidationFailed(f"No such {what} in this organization.", field=field)
    return found


@extend_schema(tags=["trust"])
class TrustSettingsViewSet(_TrustViewSet):
    """The page's settings: published, address, texts, audit shown, NDA, domains."""

    model = TrustCenter
    serializer_class = TrustSettingsOut
    pagination_class = None
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_scoped_queryset(self):  # noqa: ANN201
        return TrustCenter.objects.for_org(self.organization)

    def _out(self, center: TrustCenter) -> Response:
        domain = domains.domain_status(center) or {}
        body = {
            "saved": center.pk is not None,
            "public_url": reverse("trust_page", kwargs={"slug": center.slug}),
            "audit_status": selectors.audit_status(center.audit),
            **{name: getattr(center, name) for name in services.CENTER_FIELDS if name != "audit"},
            "audit_id": center.audit_id,
            "version": center.version,
            "updated_at": center.updated_at if center.pk else None,
            "domain_record_name": domain.get("record", ""),
            "domain_record_value": domain.get("value", ""),
            "domain_verified_at": domain.get("verified_at"),
            "domain_listed": domain.get("listed", False),
        }
        return Response(TrustSettingsOut(body).data)

    @extend_schema(summary="The trust center's settings", responses=TrustSettingsOut)
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self._out(services.center_of(self.organization))

    @extend_schema(
        summary="Change the trust center's settings",
        description="Any of the fields; the first save creates the trust center (unpublished "
        "unless `published` is true). Checked like the settings page: a refused value is a 400 "
        "naming its field and nothing is stored; an address another trust center uses is a "
        "409 (a custom domain may be claimed by several, only one can verify it).",
        request=TrustSettingsIn,
        responses={
            200: TrustSettingsOut,
            409: OpenApiResponse(ErrorOut, description="Address taken."),
        },
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = TrustSettingsIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "audit" in values:
            values["audit"] = _in_org(Audit, self.organization, values["audit"], "audit", "audit")
        return self._out(services.center_save(membership=self.principal, **values))

    @extend_schema(
        summary="Check the custom domain's TXT record",
        description='Looks `domain_record_name` up in DNS, as the settings page\'s "Check now" '
        "does. Found and holding `domain_record_value`: the domain is verified (200, the "
        "settings with `domain_verified_at`; checking a verified domain again changes "
        "nothing). No custom domain, or the record missing or different: a 400 saying what to "
        "publish, and the failed check is in the activity log.",
        request=None,
        responses={200: TrustSettingsOut},
    )
    def check_domain(self, request: Request, *args: object, **kwargs: object) -> Response:
        try:
            center = domains.domain_check(membership=self.principal)
        except ValidationFailed as exc:
            # Answered, not raised: this write's transaction (``idempotency.run_write``) rolls
            # back on an exception, and the failed check's activity entry must stay, as it
            # does on the settings page.
            return self.handle_exception(exc)
        return self._out(center)


@extend_schema(tags=["trust"])
class TrustControlsViewSet(_TrustViewSet):
    """The controls the public page shows (ids of the organization's controls)."""

    model = TrustControl
    serializer_class = TrustControlsSerializer
    pagination_class = None
    http_method_names = ["get", "put", "head", "options"]

    def get_scoped_queryset(self):  # noqa: ANN201
        return TrustControl.objects.for_org(self.organization)

    def get_object(self) -> TrustCenter:
        # One resource, no id in the URL: DRF's OPTIONS answer asks for the object behind PUT
        # (the default lookup by id would fail with a 500).
        return services.center_of(self.organization)

    @extend_schema(summary="The controls the trust center shows", responses=TrustControlsSerializer)
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        chosen = sorted(selectors.published_control_ids(self.organization))
        return Response({"controls": chosen})

    @extend_schema(
        summary="Choose the controls the trust center shows",
        description="The whole choice, replacing the previous one (an empty list shows none). "
        "Only titles and a green/amber state are public.",
        request=TrustControlsSerializer,
        responses=TrustControlsSerializer,
    )
    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = TrustControlsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        chosen = services.controls_publish(
            membership=self.principal, control_ids=data.validated_data["controls"]
        )
        return Response({"controls": chosen})


@extend_schema(tags=["trust"])
@extend_schema_view(list=extend_schema(summary="Documents the trust center offers"))
@accepts_uploads
class TrustDocumentViewSet(_TrustViewSet):
    """The documents the page offers (metadata only; never the files' bytes)."""

    model = TrustDocument
    serializer_class = TrustDocumentOut
    parser_classes = [SafeJSONParser, MultiPartParser]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_scoped_queryset(self):  # noqa: ANN201
        return selectors.listed_documents(self.organization)

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        page = self.paginate_queryset(selectors.listed_documents(self.organization))
        return self.get_paginated_response(TrustDocumentOut(page, many=True).data)

    @extend_schema(
        summary="Offer a document",
        description="Multipart `file`, or JSON (or multipart) `policy_version` (an approved "
        "version, served as its PDF); with `title` and `visibility`. A file is checked like "
        "evidence uploads (type, size up to `TRUST_DOCUMENT_MAX_MB`, malware when a scanner is "
        "configured); a private document must be a PDF. A refusal is a 400, nothing stored.",
        request={"multipart/form-data": TrustDocumentIn, "application/json": TrustDocumentIn},
        responses={201: TrustDocumentOut},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        if (problem := upload_problem(request)) is not None:
            raise problem
        data = TrustDocumentIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        version = _in_org(
            PolicyVersion,
            self.organization,
            values.get("policy_version"),
            "policy_version",
            "policy version",
        )
        doc = services.document_add(
            membership=self.principal,
            title=values["title"],
            visibility=values["visibility"],
            description=values["description"],
            upload=values.get("file"),
            policy_version=version,
        )
        doc = selectors.document_get(self.organization, doc.pk)
        return Response(TrustDocumentOut(doc).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw a document",
        description="Off the page and its links dead; kept for the requests that name it.",
        responses={204: None},
    )
    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        pk = object_id(self.kwargs["pk"], "document")
        doc = selectors.document_get(self.organization, pk)
        services.document_withdraw(membership=self.principal, document=doc)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["trust"])
@extend_schema_view(
    list=extend_schema(
        summary="Requests for private documents (newest first)", parameters=[TrustRequestFilterIn]
    )
)
class TrustRequestViewSet(_TrustViewSet):
    """Visitors' requests for private documents, to approve or deny."""

    model = TrustRequest
    serializer_class = TrustRequestOut
    http_method_names = ["get", "post", "head", "options"]

    def get_scoped_queryset(self):  # noqa: ANN201
        return selectors.requests_list(self.organization)

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = TrustRequestFilterIn(data=request.query_params)
        data.is_valid(raise_exception=True)
        rows = selectors.requests_list(self.organization, data.validated_data.get("status", ""))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(TrustRequestOut(page, many=True).data)

    def _decide(self, approve: bool) -> Response:
        pk = object_id(self.kwargs["pk"], "request")
        found = selectors.request_get(self.organization, pk)
        decided = request_decide(membership=self.principal, request=found, approve=approve)
        return Response(TrustRequestOut(decided).data)

    @extend_schema(
        summary="Approve a pending request",
        description="The visitor is e-mailed a personal download link (after the commit).",
        request=None,
        responses={200: TrustRequestOut, 409: ALREADY_DECIDED},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self._decide(approve=True)

    @extend_schema(
        summary="Deny a pending request",
        description="The visitor is told by e-mail (after the commit), without a reason.",
        request=None,
        responses={200: TrustRequestOut, 409: ALREADY_DECIDED},
    )
    @action(detail=True, methods=["post"])
    def deny(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self._decide(approve=False)
