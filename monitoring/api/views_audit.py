"""Read-only API of an audit's automated tests, under ``audits/<audit_pk>/monitoring/checks/``:
the portal's pages as JSON (``monitoring.selectors_audit``). Open to auditors on the audits
granted to them (like populations and samples), and to every other role on the organization's
audits (contributors: the tests of the controls they own). Another audit's test is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from controls.models import Audit
from controls.selectors import audit_get_for
from monitoring import selectors, selectors_audit
from monitoring.models import Check, CheckResult, Finding
from reports.selectors import audit_scope_controls, portal_audit_get
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import NotFound
from tenants.models import Role

MAX_ROWS = 200


class AuditCheckOut(serializers.ModelSerializer):
    connection = serializers.SerializerMethodField()
    criteria = serializers.ListField(child=serializers.CharField())
    findings_in_period = serializers.IntegerField()
    regressions_in_period = serializers.IntegerField()
    open_findings = serializers.IntegerField()

    class Meta:
        model = Check
        fields = [
            "id",
            "key",
            "title",
            "severity",
            "criteria",
            "failing",
            "last_run_at",
            "connection",
            "findings_in_period",
            "regressions_in_period",
            "open_findings",
        ]
        read_only_fields = fields

    def get_connection(self, check: Check) -> dict[str, str]:
        """Where the results come from: a name and a kind, never settings or credentials."""
        return {"name": check.connection.name, "kind": check.connection.kind}


class AuditFindingOut(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = [
            "id",
            "resource_id",
            "resource_name",
            "state",
            "severity",
            "opened_at",
            "closed_at",
            "due_date",
            "regression",
        ]
        read_only_fields = fields


class AuditResultOut(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id")

    class Meta:
        model = CheckResult
        fields = ["run", "resource_id", "resource_name", "status", "details", "created_at"]
        read_only_fields = fields


class AuditCheckDetailOut(AuditCheckOut):
    findings = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()

    class Meta(AuditCheckOut.Meta):
        fields = [*AuditCheckOut.Meta.fields, "findings", "results"]
        read_only_fields = fields

    def get_findings(self, check: Check) -> list[dict[str, Any]]:
        """Findings open at some point of the audit's period (at most 200)."""
        rows = selectors_audit.audit_check_findings(self.context["audit"], check)[:MAX_ROWS]
        return AuditFindingOut(rows, many=True).data

    def get_results(self, check: Check) -> list[dict[str, Any]]:
        """The latest run's results on or before the period's last day (at most 200)."""
        rows = selectors_audit.audit_check_results(self.context["audit"], check)[:MAX_ROWS]
        return AuditResultOut(rows, many=True).data


AUDIT_PARAM = OpenApiParameter(
    "audit_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The audit's id."
)


@extend_schema(parameters=[AUDIT_PARAM], tags=["monitoring"])
@extend_schema_view(
    list=extend_schema(
        summary="An audit's automated tests",
        description="The tests of the controls in the audit's scope, failing first, with "
        "their findings during the audit's period. Auditors: the audits granted to them.",
    ),
    retrieve=extend_schema(
        summary="An audit's test",
        description="With its findings open during the period and its latest results up to "
        "the period's end.",
        responses=AuditCheckDetailOut,
    ),
)
class AuditCheckViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    model = Check
    serializer_class = AuditCheckOut
    admits_auditors = True
    filter_backends: list = []

    def _audit(self) -> Audit:
        if getattr(self, "_audit_found", None) is None:
            pk = object_id(self.kwargs["audit_pk"], "audit")
            try:
                if self.principal.role == Role.AUDITOR:
                    self._audit_found = portal_audit_get(self.principal, pk)
                else:
                    self._audit_found = audit_get_for(self.organization, pk)
            except Http404 as exc:
                raise NotFound(str(exc) or "No such audit.") from None
        return self._audit_found

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "audit": self._audit()}

    def get_scoped_queryset(self) -> QuerySet[Check]:
        audit = self._audit()
        checks = selectors_audit.audit_checks(audit, audit_scope_controls(audit).values("pk"))
        if self.principal.role != Role.AUDITOR and not selectors.sees_all_checks(self.principal):
            checks = checks.filter(pk__in=selectors.checks_visible(self.principal).values("pk"))
        return checks

    def get_object(self) -> Check:
        pk = object_id(self.kwargs["pk"], "test")
        found = self.get_scoped_queryset().filter(pk=pk).first()
        if found is None:
            raise NotFound("No such test.")
        return found

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        check = self.get_object()
        return Response(AuditCheckDetailOut(check, context=self.get_serializer_context()).data)
