"""API of a connection's runs: one run, and Retry of a failed one (admins and compliance
managers, ``Action.RUN_START``). A connection's list of runs and "run now" are actions of
the connection (``monitoring/connections/<id>/runs/``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring import runs, selectors
from monitoring.api.serializers import RunOut, RunStartOut
from monitoring.models import CheckRun
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from tenants.permissions import Action


@extend_schema(tags=["monitoring"])
@extend_schema_view(retrieve=extend_schema(summary="A run"))
class RunViewSet(TenantViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    model = CheckRun
    serializer_class = RunOut
    filter_backends: list = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.require(Action.RUN_START)

    def get_scoped_queryset(self) -> QuerySet[CheckRun]:
        return CheckRun.objects.for_org(self.organization)

    def get_object(self) -> CheckRun:
        return selectors.get_run_for(self.principal, object_id(self.kwargs["pk"], "run"))

    @extend_schema(
        summary="Retry a failed run",
        description="Queues a new run of its connection (the failed run stays, with its "
        "reason); when one is already queued or running, answers with it (`started: "
        "false`). A run that did not fail is a 409.",
        request=None,
        responses={202: RunStartOut},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, *args: object, **kwargs: object) -> Response:
        started = runs.run_retry(principal=self.principal, run=self.get_object())
        return Response(RunStartOut(started).data, status=status.HTTP_202_ACCEPTED)
