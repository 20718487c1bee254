"""API of Type 2 populations, samples and test results, under ``audits/<audit_pk>/``.

Compliance managers (and their keys) supply populations and may draw; auditors, signed in,
may use these endpoints too (the only ones open to them) on the audits granted to them: they
read, draw samples and record test results. Each action validates input, calls a service or
selector of ``reports.populations`` / ``reports.samples`` and serializes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from controls.models import Audit
from controls.selectors import audit_get_for, control_get_for
from reports import populations, samples, selectors, selectors_sampling
from reports.api.serializers_sampling import (
    PopulationIn,
    PopulationItemOut,
    PopulationOut,
    ResultIn,
    SampleIn,
    SampleItemOut,
    SampleOut,
)
from reports.models import Population, Sample, SampleItem
from soc2app.api.parsers import SafeJSONParser
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import NotFound, ValidationFailed
from soc2app.uploads import accepts_uploads, upload_problem
from tenants.models import Role
from tenants.permissions import Action

AUDIT_PARAM = OpenApiParameter(
    "audit_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The audit's id."
)


def _found(getter: Any, *args: object) -> Any:
    try:
        return getter(*args)
    except Http404 as exc:
        raise NotFound(str(exc) or "Not found.") from None


class _SamplingBase(TenantViewSetMixin):
    admits_auditors = True
    filter_backends: list = []
    http_method_names = ["get", "post", "head", "options"]

    def _audit(self) -> Audit:
        pk = object_id(self.kwargs["audit_pk"], "audit")
        if self.principal.role == Role.AUDITOR:
            return _found(selectors.portal_audit_get, self.principal, pk)
        return _found(audit_get_for, self.organization, pk)


@extend_schema(parameters=[AUDIT_PARAM], tags=["samples"])
@accepts_uploads
class PopulationViewSet(
    _SamplingBase, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    model = Population
    serializer_class = PopulationOut
    parser_classes = [SafeJSONParser, MultiPartParser]

    def get_scoped_queryset(self) -> QuerySet[Population]:
        return selectors_sampling.populations_for_audit(self._audit())

    def get_object(self) -> Population:
        return _found(selectors_sampling.population_get, self._audit(), self.kwargs["pk"])

    @extend_schema(summary="An audit's populations", description="By control, newest first.")
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A population", description="Its hash, size, source and supplier.")
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Supply a population",
        description="JSON `{control, items: [{id, date, description}]}`, or `{control, "
        'from_evidence: true}`, or `{control, from_source: "people.joiners"}` (a ready-made '
        "population), or multipart `control` + `file` (CSV with the header "
        "`id,date,description`). Stored as the control's next version, or not at all: every "
        "broken rule is listed, naming its row. Compliance managers, admins, owners.",
        request=PopulationIn,
        responses={201: PopulationOut},
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        audit = self._audit()
        self.require(Action.AUDIT_MANAGE)
        upload = None
        if request.content_type.startswith("multipart/"):
            upload = request.data.get("file")  # parsing lets the upload handler see the body
            if (problem := upload_problem(request)) is not None:
                raise problem  # too large, or incomplete: not "send items"
        if not hasattr(request.data, "items"):
            raise ValidationFailed('Send a JSON object: {"control": ..., "items": [...]}.')
        fields = {k: v for k, v in request.data.items() if k != "file"}
        data = PopulationIn(data=fields)
        data.is_valid(raise_exception=True)
        control = _found(control_get_for, self.organization, data.validated_data["control"])
        args = {"membership": self.principal, "audit": audit, "control": control}
        if upload is not None:
            population = populations.population_upload_csv(
                **args, data=upload.read(populations.sampling.MAX_BYTES + 1), name=upload.name
            )
        elif data.validated_data["from_evidence"]:
            population = populations.population_from_evidence(**args)
        elif data.validated_data.get("from_source"):
            key = data.validated_data["from_source"]
            population = populations.population_from_source(**args, key=key)
        elif "items" in data.validated_data:
            population = populations.population_push(**args, items=data.validated_data["items"])
        else:
            raise ValidationFailed("Send items, a CSV file, or from_evidence: true.", field="items")
        population = selectors_sampling.population_get(audit, population.pk)
        return Response(PopulationOut(population).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="A population's items", responses=PopulationItemOut(many=True))
    @action(detail=True, methods=["get"])
    def items(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = selectors_sampling.population_items(self.get_object())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(PopulationItemOut(page, many=True).data)

    @extend_schema(
        summary="Export a population (canonical CSV)",
        description="Its SHA-256 is the population's `sha256`.",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def export(self, request: Request, *args: object, **kwargs: object) -> StreamingHttpResponse:
        population = self.get_object()
        response = StreamingHttpResponse(
            selectors_sampling.population_export(population), content_type="text/csv"
        )
        name = selectors_sampling.export_filename(population)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


@extend_schema(parameters=[AUDIT_PARAM], tags=["samples"])
class SampleViewSet(
    _SamplingBase, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    model = Sample
    serializer_class = SampleOut

    def get_scoped_queryset(self) -> QuerySet[Sample]:
        audit = self._audit()
        return Sample.objects.for_org(self.organization).filter(audit=audit).order_by("-pk")

    def get_object(self) -> Sample:
        return _found(selectors_sampling.sample_get, self._audit(), self.kwargs["pk"])

    @extend_schema(summary="An audit's samples", description="Newest first.")
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A sample", description="Its method, seed, size and reasons.")
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(summary="Draw a sample", request=SampleIn, responses={201: SampleOut})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        audit = self._audit()
        self.require(Action.SAMPLE_DRAW)
        data = SampleIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        population = _found(selectors_sampling.population_get, audit, values.pop("population"))
        sample = samples.sample_draw(membership=self.principal, population=population, **values)
        return Response(SampleOut(sample).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="A sample's items", responses=SampleItemOut(many=True))
    @action(detail=True, methods=["get"])
    def items(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = selectors_sampling.sample_items(self.get_object())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SampleItemOut(page, many=True).data)


@extend_schema(parameters=[AUDIT_PARAM], tags=["samples"])
class SampleItemViewSet(_SamplingBase, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    model = SampleItem
    serializer_class = SampleItemOut

    def get_scoped_queryset(self) -> QuerySet[SampleItem]:
        return SampleItem.objects.for_org(self.organization).filter(sample__audit=self._audit())

    def get_object(self) -> SampleItem:
        pk = object_id(self.kwargs["pk"], "sample item")
        item = (
            self.get_scoped_queryset()
            .select_related("population_item", "request", "sample__audit__organization")
            .select_related("sample__control")
            .filter(pk=pk)
            .first()
        )
        if item is None:
            raise NotFound("No such sample item.")
        return item

    @extend_schema(summary="A sample item", description="The occurrence, its request, result.")
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Record a test result",
        description="`no_exception`, or `exception` with a `note`. Auditors only.",
        request=ResultIn,
        responses={200: SampleItemOut},
    )
    @action(detail=True, methods=["post"])
    def result(self, request: Request, *args: object, **kwargs: object) -> Response:
        item = self.get_object()
        self.require(Action.SAMPLE_TEST)
        data = ResultIn(data=request.data)
        data.is_valid(raise_exception=True)
        item = samples.sample_item_test(membership=self.principal, item=item, **data.validated_data)
        return Response(SampleItemOut(item).data)
