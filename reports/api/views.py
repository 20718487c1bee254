"""API of an audit's reports: list and request them (``audits/<audit_pk>/reports/``), then poll
one, download its file or queue it again (``reports/<id>/``). Each action validates input,
calls a report service or selector and serializes; permissions are the services' (reading
is open to every role the API admits; requesting needs ``report.generate``).

Generation is a Celery task: a request answers 202 with the queued report at once. When the
task queue is unreachable the report stays queued with a message in ``error`` and the beat
sweep sends it again (``reports.services.reports_redispatch``), as on the reports page.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controls.models import Audit
from controls.selectors import audit_get_for
from reports import selectors, services
from reports.api.serializers import ReportIn, ReportOut
from reports.downloads import MissingFile, report_file_response
from reports.models import KIND_FILES, Report, ReportStatus
from soc2app.api.negotiation import AnyAccept
from soc2app.api.pagination import WindowCountPagination
from soc2app.api.serializers import ErrorOut
from soc2app.api.tenancy import ORG_SLUG_KWARG, TenantViewSetMixin, object_id
from soc2app.client_ip import client_ip
from soc2app.errors import Conflict, NotFound
from tenants.permissions import Action

AUDIT_PARAM = OpenApiParameter(
    "audit_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The audit's id."
)
# One entry per file type (the CSV kinds share one), without parameters such as charset.
FILE_TYPES = sorted({content_type.split(";")[0] for _, content_type in KIND_FILES.values()})


class _ReportBase(TenantViewSetMixin):
    model = Report
    serializer_class = ReportOut
    filter_backends: list = []

    def get_scoped_queryset(self) -> QuerySet[Report]:
        return Report.objects.for_org(self.organization)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "organization": self.organization}

    def _out(self, report: Report) -> dict:
        return ReportOut(report, context=self.get_serializer_context()).data

    def _report(self, pk: object) -> Report:
        try:
            return selectors.report_get_for(self.organization, object_id(pk, "report"))
        except Http404:
            raise NotFound("No such report.") from None

    def _location(self, report: Report) -> str:
        kwargs = {ORG_SLUG_KWARG: self.organization.slug, "pk": report.pk}
        return self.request.build_absolute_uri(reverse("report-detail", kwargs=kwargs))

    def _accepted(self, report: Report) -> Response:
        return Response(
            self._out(report),
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": self._location(report)},
        )

    def answer_after_commit(self, response: Response) -> Response:
        """The report again once the write committed: sending its task (an on-commit hook)
        may have recorded a broker outage, or, with eager tasks, finished it. Called by
        ``soc2app.api.idempotency``, which keeps ``response`` if the database is gone."""
        return self._accepted(self._report(response.data["id"]))


@extend_schema(parameters=[AUDIT_PARAM], tags=["reports"])
class AuditReportViewSet(_ReportBase, mixins.ListModelMixin, viewsets.GenericViewSet):
    pagination_class = WindowCountPagination  # a few reports per audit: count with the page
    http_method_names = ["get", "post", "head", "options"]

    def _audit(self) -> Audit:
        try:
            return audit_get_for(self.organization, object_id(self.kwargs["audit_pk"], "audit"))
        except Http404:
            raise NotFound("No such audit.") from None

    @extend_schema(
        summary="An audit's reports",
        description="Newest first, whatever their status.",
        responses=ReportOut(many=True),
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = selectors.reports_for_audit(self.organization, self._audit())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Request a report",
        description="Queues the report and answers at once (202) with it, `queued`; the "
        "`Location` header is the report to poll. If the task queue cannot be reached, the "
        "report stays `queued`, `error` says so and it is sent again automatically within "
        "minutes (or at once with `POST .../reports/{id}/retry/`).",
        request=ReportIn,
        responses={202: ReportOut},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        audit = self._audit()
        self.require(Action.REPORT_GENERATE)
        data = ReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.report_request(
            membership=self.principal, audit=audit, kind=data.validated_data["kind"]
        )
        return self._accepted(report)  # and read again after commit: answer_after_commit


NOT_READY = {
    ReportStatus.QUEUED: "This report is queued and has no file yet: poll it until its status "
    "is done, then download it.",
    ReportStatus.RUNNING: "This report is being generated ({progress}% done): poll it until "
    "its status is done, then download it.",
    ReportStatus.FAILED: "This report failed, so it has no file: {error} Queue it again with "
    "POST .../reports/{id}/retry/.",
}


@extend_schema(tags=["reports"])
class ReportViewSet(_ReportBase, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    http_method_names = ["get", "post", "head", "options"]

    def get_object(self) -> Report:
        return self._report(self.kwargs["pk"])

    @extend_schema(
        summary="A report",
        description="Its status and progress; once done, the file's SHA-256, size, pages and "
        "`download_url`; once failed, the reason in `error`.",
    )
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return Response(self._out(self.get_object()))

    @extend_schema(
        summary="Download a report's file",
        description="The file, as an attachment (`Content-Disposition` names it); its SHA-256 "
        "is the report's `sha256`. Every download is recorded in the activity log. A report "
        "that is not done has no file yet: 409, with what to do.",
        responses={
            **{
                (200, media_type): OpenApiResponse(
                    # OSCAL assessment results are JSON; every other kind is a file of bytes.
                    OpenApiTypes.OBJECT
                    if media_type == "application/json"
                    else OpenApiTypes.BINARY,
                    description="The file.",
                )
                for media_type in FILE_TYPES
            },
            409: OpenApiResponse(ErrorOut, description="The report is not done (yet)."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        content_negotiation_class=AnyAccept,
    )
    def download(self, request: Request, *args: object, **kwargs: object) -> FileResponse:
        report = self.get_object()
        if report.status != ReportStatus.DONE:
            message = NOT_READY[report.status].format(
                progress=report.progress, error=report.error, id=report.pk
            )
            raise Conflict(message, code="not_ready")

        def record() -> None:
            services.report_download_record(
                membership=self.principal, report=report, client_ip=client_ip(request)
            )

        try:  # a HEAD fetches nothing: nothing to record
            return report_file_response(report, record if request.method == "GET" else None)
        except MissingFile:
            raise NotFound("The file of this report is missing from storage.") from None

    @extend_schema(
        summary="Queue a report again",
        description="A failed report, a queued one whose task never reached the queue, or one "
        "still `running` long after its worker should have finished (`REPORT_STALE_AFTER`: the "
        "worker is gone). A report being generated or done has nothing to retry: 409.",
        request=None,
        responses={
            202: ReportOut,
            409: OpenApiResponse(ErrorOut, description="Nothing to retry."),
        },
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, *args: object, **kwargs: object) -> Response:
        report = self.get_object()
        self.require(Action.REPORT_GENERATE)
        report = services.report_retry(membership=self.principal, report=report)
        return self._accepted(report)  # and read again after commit: answer_after_commit
