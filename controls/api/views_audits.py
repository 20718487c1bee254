"""API of an organization's systems and audits: scope, dates, the self-assessment and the
readiness of an audit. Each action validates input, calls a service or a selector and
serializes; permissions are the services'."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controls import selectors
from controls.api.serializers_audits import (
    AuditIn,
    AuditOut,
    AuditUpdateIn,
    SelfAssessmentIn,
    SelfAssessmentOut,
    SystemIn,
    SystemOut,
    SystemUpdateIn,
)
from controls.api.serializers_readiness import ReadinessOut
from controls.audits import audit_save, self_assessment_save
from controls.models import Audit, AuditCategory, AuditSystem, System
from controls.readiness import audit_readiness
from controls.systems import system_save
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import NotFound
from tenants.permissions import Action

_METHODS = ["get", "post", "patch", "head", "options"]


@extend_schema(tags=["systems"])
@extend_schema_view(
    list=extend_schema(summary="List systems"),
    retrieve=extend_schema(summary="A system"),
)
class SystemViewSet(
    TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Systems (products, platforms) an audit can cover."""

    model = System
    serializer_class = SystemOut
    filter_backends: list = []
    http_method_names = _METHODS

    def get_scoped_queryset(self) -> QuerySet[System]:
        return selectors.systems_list(self.organization)

    def get_object(self) -> System:
        return selectors.system_get_for(self.organization, object_id(self.kwargs["pk"], "system"))

    @extend_schema(summary="Create a system", request=SystemIn, responses={201: SystemOut})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        self.require(Action.AUDIT_MANAGE)
        data = SystemIn(data=request.data)
        data.is_valid(raise_exception=True)
        system = system_save(membership=self.principal, **data.validated_data)
        system = selectors.system_get_for(self.organization, system.pk)
        return Response(SystemOut(system).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a system", request=SystemUpdateIn, responses=SystemOut)
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        system = self.get_object()
        self.require(Action.AUDIT_MANAGE)
        data = SystemUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = {
            "name": system.name,
            "description": system.description,
            "owner": system.owner_id,
            "components": system.components,
            **data.validated_data,
        }
        system_save(membership=self.principal, system=system, **values)
        system = selectors.system_get_for(self.organization, system.pk)
        return Response(SystemOut(system).data)


@extend_schema(tags=["audits"])
@extend_schema_view(
    list=extend_schema(summary="List audits"),
    retrieve=extend_schema(summary="An audit with its scope"),
)
class AuditViewSet(
    TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Audits: Type 1 (design at a date) or Type 2 (operating over a window), their scope
    (categories and systems), the self-assessment and readiness."""

    model = Audit
    serializer_class = AuditOut
    filter_backends: list = []
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_scoped_queryset(self) -> QuerySet[Audit]:
        org = self.organization
        return (
            selectors.audits_list(org)
            .select_related("framework")
            .prefetch_related(
                Prefetch(
                    "scope_categories",
                    queryset=AuditCategory.objects.for_org(org).select_related("category"),
                ),
                Prefetch(
                    "scope_systems",
                    queryset=AuditSystem.objects.for_org(org).select_related("system"),
                ),
            )
        )

    def get_object(self) -> Audit:
        """The audit alone (readiness and the self-assessment read their own rows)."""
        return selectors.audit_get_for(self.organization, object_id(self.kwargs["pk"], "audit"))

    def _out(self, audit: Audit) -> dict:
        return AuditOut(self.get_scoped_queryset().get(pk=audit.pk)).data

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        audit = self.get_scoped_queryset().filter(pk=object_id(kwargs["pk"], "audit")).first()
        if audit is None:
            raise NotFound("No such audit.")
        return Response(AuditOut(audit).data)

    @extend_schema(summary="Create an audit", request=AuditIn, responses={201: AuditOut})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        self.require(Action.AUDIT_MANAGE)
        data = AuditIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        audit = audit_save(
            membership=self.principal,
            categories=values.pop("categories", ()),
            systems=values.pop("systems", ()),
            **values,
        )
        return Response(self._out(audit), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change an audit", request=AuditUpdateIn, responses=AuditOut)
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        audit = self.get_object()
        self.require(Action.AUDIT_MANAGE)
        data = AuditUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        audit_save(
            membership=self.principal,
            audit=audit,
            categories=values.pop("categories", None),
            systems=values.pop("systems", None),
            **values,
        )
        return Response(self._out(audit))

    @extend_schema(
        summary="Readiness of the audit",
        description="Per criterion in scope: met, partial, gap or not applicable, with the "
        "reasons, the mapped controls and their owners; per category and overall a score. "
        "For a Type 2 audit, per control the sub-periods of the window its frequency implies "
        "(covered, missing or upcoming) and the sample size auditors commonly draw.",
        responses=ReadinessOut,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def readiness(self, request: Request, *args: object, **kwargs: object) -> Response:
        return Response(ReadinessOut(audit_readiness(self.get_object())).data)

    @extend_schema(
        methods=["GET"],
        summary="The self-assessment of the audit",
        description="One row per criterion in scope; `answer` is null until answered.",
        responses=SelfAssessmentOut,
    )
    @extend_schema(
        methods=["PUT"],
        summary="Answer the self-assessment",
        description="Saves the answers sent (criteria not sent keep theirs); not_applicable "
        "needs notes. Returns the whole self-assessment.",
        request=SelfAssessmentIn,
        responses=SelfAssessmentOut,
    )
    @action(
        detail=True,
        methods=["get", "put"],
        url_path="self-assessment",
        filter_backends=[],
        pagination_class=None,
    )
    def self_assessment(self, request: Request, *args: object, **kwargs: object) -> Response:
        audit = self.get_object()
        changed = None
        if request.method == "PUT":
            self.require(Action.AUDIT_MANAGE)
            data = SelfAssessmentIn(data=request.data)
            data.is_valid(raise_exception=True)
            answers = {
                a["criterion"]: (a["answer"], a["notes"]) for a in data.validated_data["answers"]
            }
            changed = self_assessment_save(membership=self.principal, audit=audit, answers=answers)
        rows = [
            {
                "criterion": criterion.ref,
                "title": criterion.title,
                "category": criterion.category.key,
                "answer": answer.answer if answer else None,
                "notes": answer.notes if answer else "",
                "answered_at": answer.answered_at if answer else None,
            }
            for criterion, answer in selectors.self_assessment_rows(audit)
        ]
        body = {
            "answered": sum(1 for row in rows if row["answer"]),
            "total": len(rows),
            "answers": rows,
        }
        if changed is not None:
            body["changed"] = changed
        return Response(SelfAssessmentOut(body).data)
