"""The training API under /api/v1/orgs/<slug>/training/ (managers): requirements with
"N of M current, K overdue", each requirement's people with last completion, next due date
and overdue flag, and recording a completion reported by a learning platform."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from evidence.api.serializers import VersionDetailOut
from people.models import Person
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import NotFound, ValidationFailed
from training import selectors, services
from training.api.serializers import CompletionIn, CompletionOut, RequirementOut, StatusOut
from training.evidence import completion_snapshot_record
from training.models import CompletionSource, TrainingRequirement


@extend_schema(tags=["training"])
@extend_schema_view(
    list=extend_schema(summary="Training requirements with their completion figures"),
    retrieve=extend_schema(summary="A training requirement"),
)
class TrainingViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    model = TrainingRequirement
    serializer_class = RequirementOut
    filter_backends: list = []
    http_method_names = ["get", "post", "head", "options"]

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        self.require(services.MANAGE)  # every answer names people

    def get_scoped_queryset(self):
        return TrainingRequirement.objects.for_org(self.organization)

    def _requirement(self) -> TrainingRequirement:
        pk = object_id(self.kwargs["pk"], "training requirement")
        found = self.get_scoped_queryset().filter(pk=pk).first()
        if found is None:
            raise NotFound("No such training requirement.")
        return found

    def _today(self):
        from django.utils import timezone

        return timezone.localdate()

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = selectors.summaries(self.organization, self._today())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RequirementOut(page, many=True).data)

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        pk = self._requirement().pk
        row = next(
            s
            for s in selectors.summaries(self.organization, self._today())
            if s.requirement.pk == pk
        )
        return Response(RequirementOut(row).data)

    @extend_schema(
        summary="The people it covers: last completion, next due, overdue",
        responses=StatusOut(many=True),
    )
    @action(detail=True, methods=["get"])
    def status(self, request: Request, *args: object, **kwargs: object) -> Response:
        req = self._requirement()
        rows = selectors.statuses(self.organization, self._today(), [req])[req.pk]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(StatusOut(page, many=True).data)

    @extend_schema(
        summary="Record a completion (from a learning platform)",
        request=CompletionIn,
        responses={201: CompletionOut},
    )
    @action(detail=True, methods=["post"])
    def completions(self, request: Request, *args: object, **kwargs: object) -> Response:
        req = self._requirement()
        data = CompletionIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        person = (
            Person.objects.for_org(self.organization).filter(email__iexact=values["email"]).first()
        )
        if person is None:
            raise ValidationFailed("No person with this e-mail in the roster.", field="email")
        completion = services.completion_by_manager(
            membership=self.principal,
            requirement=req,
            person=person,
            completed_on=values["completed_on"],
            provider=values.get("provider", ""),
            source=CompletionSource.API,
        )
        return Response(CompletionOut(completion).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the month-to-date completion figures as evidence",
        description="One system-generated version, accepted automatically, on each control the "
        "training supports: people assigned, completed in their cycle, overdue, rate, as of "
        "today, effective from the first of the month.",
        request=None,
        responses={201: VersionDetailOut(many=True)},
    )
    # A plain list of the versions written (not a page): no paginator, in the schema too.
    @action(detail=True, methods=["post"], pagination_class=None)
    def evidence(self, request: Request, *args: object, **kwargs: object) -> Response:
        versions = completion_snapshot_record(
            membership=self.principal, requirement=self._requirement()
        )
        context = {**self.get_serializer_context(), "organization": self.organization}
        body = VersionDetailOut(versions, many=True, context=context).data
        return Response(body, status=status.HTTP_201_CREATED)
