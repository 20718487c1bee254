"""API of continuous monitoring: connections (owners, admins and ``admin`` keys), pushing a
custom test's results (``admin`` and ``compliance_manager`` keys: a CI job), and reading
checks and findings (every role; contributors see their controls' tests)."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Count, Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring import runs, selectors, services
from monitoring.api.serializers import (
    CheckOut,
    ConnectionIn,
    ConnectionOut,
    ConnectionUpdateIn,
    FindingOut,
    ProbeOut,
    PushIn,
    PushOut,
    RunOut,
    RunPage,
    RunStartOut,
)
from monitoring.collectors import RawOutput
from monitoring.models import Check, Connection, Finding, FindingState
from monitoring.services import CheckSpec, ResultSpec
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import NotFound
from tenants.permissions import Action


@extend_schema(tags=["monitoring"])
@extend_schema_view(
    list=extend_schema(summary="List connections"),
    retrieve=extend_schema(summary="A connection"),
    destroy=extend_schema(
        summary="Remove a connection",
        description="Its checks, runs, results and findings go with it; the activity log "
        "keeps the removal.",
        responses={204: None},
    ),
)
class ConnectionViewSet(
    TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Connections to outside systems. Credentials are write-only and stored encrypted."""

    model = Connection
    serializer_class = ConnectionOut
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Pushing results is a CI job's right; running and testing the program's people's
        # (admins, compliance managers); everything else is configuration.
        needs = {"results": Action.RESULTS_PUSH, "runs": Action.RUN_START, "test": Action.RUN_START}
        self.require(needs.get(self.action, Action.CONNECTION_MANAGE))

    def get_scoped_queryset(self) -> QuerySet[Connection]:
        return selectors.connections_list(self.organization)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "slug": self.organization.slug}

    def _out(self, rows: list[Connection], **kwargs: Any) -> Any:
        names = selectors.connection_system_ids(self.organization, rows)
        context = {**self.get_serializer_context(), "systems": names}
        return ConnectionOut(rows, many=True, context=context).data

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self._out(list(page)))

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return Response(self._out([self.get_object()])[0])

    def get_object(self) -> Connection:
        pk = object_id(self.kwargs["pk"], "connection")
        return selectors.get_connection_for(self.principal, pk)

    @extend_schema(summary="Add a connection", request=ConnectionIn, responses={201: ConnectionOut})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = ConnectionIn(data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.connection_create(membership=self.principal, **data.validated_data)
        return Response(self._out([connection])[0], status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a connection (name, systems, schedule, enabled; replace credentials)",
        request=ConnectionUpdateIn,
        responses=ConnectionOut,
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        connection = self.get_object()
        data = ConnectionUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        connection = services.connection_update(
            membership=self.principal, connection=connection, **data.validated_data
        )
        return Response(self._out([connection])[0])

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        services.connection_delete(membership=self.principal, connection=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Push a test's results",
        description="One check and a result per resource (pass, fail or error). A failure "
        "opens a finding (owner: the first mapped control's owner; due by severity), a pass "
        "closes it, a failure after a close is a regression; an error changes no finding. "
        "For connections of kind `custom`; send an `Idempotency-Key` to retry safely.",
        request=PushIn,
        responses={201: PushOut},
    )
    @action(detail=True, methods=["post"])
    def results(self, request: Request, *args: object, **kwargs: object) -> Response:
        connection = self.get_object()
        data = PushIn(data=request.data)
        data.is_valid(raise_exception=True)
        check, results = data.validated_data["check"], data.validated_data["results"]
        summary = services.results_push(
            membership=self.principal,
            connection=connection,
            check=CheckSpec(
                key=check["key"],
                title=check["title"],
                severity=check["severity"],
                criteria=tuple(check["criteria"]),
                controls=tuple(check["controls"]),
            ),
            results=[ResultSpec(**r) for r in results],
            output=RawOutput(
                content=json.dumps(request.data, ensure_ascii=False, sort_keys=True).encode(),
                name=f"push-{check['key'][:60]}.json",
            ),
        )
        return Response(PushOut(summary).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="A connection's runs",
        description="Newest first, by pages (`?page=`). Admins and compliance managers.",
        responses=RunPage,
    )
    @extend_schema(
        methods=["POST"],
        summary="Run a connection now",
        description="Queues a run (`started: true`); when one is already queued or running, "
        "answers with it (`started: false`): one run at a time per connection. Connections of "
        "kind `custom` have nothing to run (their results are pushed); paused ones are "
        "refused.",
        request=None,
        responses={202: RunStartOut},
    )
    @action(detail=True, methods=["get", "post"])
    def runs(self, request: Request, *args: object, **kwargs: object) -> Response:
        connection = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.connection_runs(connection))
            return self.get_paginated_response(RunOut(page, many=True).data)
        started = runs.run_start(principal=self.principal, connection=connection)
        return Response(RunStartOut(started).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Test a connection",
        description="Whether its credentials work and what they can see, in a sentence "
        "(never a secret); for kind `custom`, when results were last pushed. Logged.",
        request=None,
        responses=ProbeOut,
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, *args: object, **kwargs: object) -> Response:
        probe = runs.connection_test(principal=self.principal, connection=self.get_object())
        return Response(ProbeOut(probe).data)


STATE_PARAM = OpenApiParameter(
    "state",
    OpenApiTypes.STR,
    enum=FindingState.values,
    description="Only open or only closed findings.",
)


@extend_schema(tags=["monitoring"])
@extend_schema_view(
    list=extend_schema(summary="List tests (checks)", description="Failing first."),
    retrieve=extend_schema(summary="A test"),
)
class CheckViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    model = Check
    serializer_class = CheckOut
    filter_backends: list = []

    def get_scoped_queryset(self) -> QuerySet[Check]:
        return (
            selectors.checks_visible(self.principal)
            .annotate(open_findings=Count("findings", filter=Q(findings__state="open")))
            .order_by("-failing", "key", "id")
        )

    def get_object(self) -> Check:
        pk = object_id(self.kwargs["pk"], "test")
        found = self.get_scoped_queryset().filter(pk=pk).first()
        if found is None:
            raise NotFound("No such test.")
        return found


@extend_schema(tags=["monitoring"])
@extend_schema_view(
    list=extend_schema(summary="List findings", parameters=[STATE_PARAM]),
    retrieve=extend_schema(summary="A finding"),
)
class FindingViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    model = Finding
    serializer_class = FindingOut
    filter_backends: list = []

    def get_scoped_queryset(self) -> QuerySet[Finding]:
        findings = selectors.findings_list(self.principal)
        state = self.request.query_params.get("state", "")
        if state in FindingState.values:
            findings = findings.filter(state=state)
        return findings

    def get_object(self) -> Finding:
        pk = object_id(self.kwargs["pk"], "finding")
        found = self.get_scoped_queryset().filter(pk=pk).first()
        if found is None:
            raise NotFound("No such finding.")
        return found
