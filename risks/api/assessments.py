"""The risk assessments API under /api/v1/orgs/<slug>/risks/assessments/: list, read, run one
(create), retry the PDF, and download the CSV and the PDF. Managers only (owners, admins,
compliance managers and their keys), reading too, as the register."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from risks import assessment, assessment_selectors
from risks.api.serializers_assessment import AssessmentDetailOut, AssessmentIn, AssessmentOut
from risks.assessment_downloads import assessment_file_response
from risks.models import RiskAssessment
from soc2app.api.negotiation import AnyAccept
from soc2app.api.serializers import ErrorOut
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from tenants.permissions import Action


def _download_schema(media_type: str, what: str) -> Any:
    return extend_schema(
        summary=f"Download the assessment's {what}",
        description=f"The {what} as an attachment; its SHA-256 is on the assessment. Every "
        "download is recorded in the activity log."
        + (" A PDF still rendering (or failed) has no file: 409." if what == "PDF" else ""),
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
            409: OpenApiResponse(ErrorOut, description="The PDF is not ready."),
        },
    )


@extend_schema(tags=["risks"])
@extend_schema_view(
    list=extend_schema(summary="List the risk assessments (newest first, without their rows)"),
    retrieve=extend_schema(summary="A risk assessment, with the frozen register"),
)
class RiskAssessmentViewSet(
    TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    model = RiskAssessment
    serializer_class = AssessmentOut
    filter_backends: list = []
    http_method_names = ["get", "post", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.require(Action.RISK_MANAGE)  # reading too, as the register

    def get_scoped_queryset(self) -> QuerySet[RiskAssessment]:
        return assessment_selectors.assessments_list(self.organization)

    def get_object(self) -> RiskAssessment:
        return assessment_selectors.assessment_get(
            self.organization, object_id(self.kwargs["pk"], "risk assessment")
        )

    @extend_schema(responses=AssessmentDetailOut)
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return Response(AssessmentDetailOut(self.get_object()).data)

    @extend_schema(
        summary="Run the risk assessment",
        description="Freezes the register (rows, summary, CSV with its SHA-256) and records it "
        "as accepted system evidence on the controls mapped to CC3.1-CC3.4, effective on "
        "`performed_on` (today by default; never in the future nor before the latest "
        "assessment). The PDF renders in the background: poll until `status` is `ready`.",
        request=AssessmentIn,
        responses={201: AssessmentDetailOut},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = AssessmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        done = assessment.assessment_run(membership=self.principal, **data.validated_data)
        return Response(AssessmentDetailOut(done).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Render the PDF again",
        description="A failed PDF, or one stuck rendering; otherwise 409.",
        request=None,
        responses={202: AssessmentOut, 409: ErrorOut},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, *args: object, **kwargs: object) -> Response:
        done = assessment.assessment_retry(membership=self.principal, assessment=self.get_object())
        return Response(AssessmentOut(done).data, status=status.HTTP_202_ACCEPTED)

    @_download_schema("text/csv", "CSV")
    @action(
        detail=True, methods=["get"], pagination_class=None, content_negotiation_class=AnyAccept
    )
    def csv(self, request: Request, *args: object, **kwargs: object) -> FileResponse:
        return assessment_file_response(self.get_object(), "csv", membership=self.principal)

    @_download_schema("application/pdf", "PDF")
    @action(
        detail=True, methods=["get"], pagination_class=None, content_negotiation_class=AnyAccept
    )
    def pdf(self, request: Request, *args: object, **kwargs: object) -> FileResponse:
        return assessment_file_response(self.get_object(), "pdf", membership=self.principal)
