"""Read-only API of an audit's people and policies, under ``audits/<audit_pk>/``: the auditor
portal's pages as JSON (``reports.selectors_portal_people``).

* ``policy-versions/``: approved versions effective in or before the audit's period (the
  detail has the Markdown its SHA-256 identifies);
* ``policy-acceptances/`` (``?version=<id>``): their acceptance records;
* ``training-requirements/`` and ``training-completions/`` (``?requirement=<id>``), a
  completion's certificate at ``training-completions/<id>/certificate/``;
* ``sampled-checklists/``: the checklists of the people sampled from the roster's joiners and
  leavers in this audit.

These name people: open to auditors, signed in, on the audits granted to them (like
populations and samples), and to the roles that manage the roster (and their keys) on every
audit; everyone else gets a 403, another audit or organization a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controls.models import Audit
from controls.selectors import audit_get_for
from evidence.filenames import EXTENSION_FOR_TYPE
from people.models import Checklist
from policies.models import Acceptance, PolicyVersion
from reports import selectors
from reports import selectors_portal_people as people
from reports.access import portal_personal_data_record
from reports.api.serializers_portal_people import (
    PortalAcceptanceOut,
    PortalCompletionOut,
    PortalPolicyVersionDetailOut,
    PortalPolicyVersionOut,
    PortalRequirementOut,
    PortalSampledChecklistOut,
)
from soc2app.api.negotiation import AnyAccept
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.client_ip import client_ip
from soc2app.errors import NotFound
from tenants.models import Role
from tenants.permissions import Action
from training.downloads import certificate_response
from training.models import TrainingCompletion, TrainingRequirement

AUDIT_PARAM = OpenApiParameter(
    "audit_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The audit's id."
)


def _found(getter: Any, *args: object) -> Any:
    try:
        return getter(*args)
    except Http404 as exc:
        raise NotFound(str(exc) or "Not found.") from None


class _PeopleBase(TenantViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    admits_auditors = True
    filter_backends: list = []
    http_method_names = ["get", "head", "options"]

    def _audit(self) -> Audit:
        if getattr(self, "_audit_found", None) is None:
            pk = object_id(self.kwargs["audit_pk"], "audit")
            if self.principal.role == Role.AUDITOR:
                self._audit_found = _found(selectors.portal_audit_get, self.principal, pk)
            else:
                self.require(Action.PEOPLE_MANAGE)  # personal data: managers, not everyone
                self._audit_found = _found(audit_get_for, self.organization, pk)
        return self._audit_found


@extend_schema(parameters=[AUDIT_PARAM], tags=["audit people"])
class PortalPolicyVersionViewSet(_PeopleBase, mixins.RetrieveModelMixin):
    model = PolicyVersion
    serializer_class = PortalPolicyVersionOut

    def get_scoped_queryset(self) -> QuerySet[PolicyVersion]:
        return people.policy_versions(self._audit())

    def get_object(self) -> PolicyVersion:
        return _found(people.policy_version_get, self._audit(), self.kwargs["pk"])

    @extend_schema(
        summary="An audit's approved policy versions",
        description="Versions approved on or before the audit's period end, by policy, with "
        "their SHA-256 and number of acceptance records.",
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="An approved policy version",
        description="With its Markdown (``body``): the text whose SHA-256 is ``sha256``.",
        responses=PortalPolicyVersionDetailOut,
    )
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return Response(PortalPolicyVersionDetailOut(self.get_object()).data)


VERSION_PARAM = OpenApiParameter(
    "version", OpenApiTypes.INT, description="Only this policy version's records."
)


@extend_schema(parameters=[AUDIT_PARAM, VERSION_PARAM], tags=["audit people"])
class PortalAcceptanceViewSet(_PeopleBase):
    model = Acceptance
    serializer_class = PortalAcceptanceOut

    def get_scoped_queryset(self) -> QuerySet[Acceptance]:
        audit = self._audit()
        raw = self.request.query_params.get("version", "")
        version = _found(people.policy_version_get, audit, raw) if raw else None
        return people.acceptances(audit, version)

    @extend_schema(
        summary="Acceptance records of an audit's policy versions",
        description="Person (name and address blank once anonymised; the hashes stay), time, "
        "channel, SHA-256 of the text shown, consent sentence, IP address and user agent.",
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)


@extend_schema(parameters=[AUDIT_PARAM], tags=["audit people"])
class PortalRequirementViewSet(_PeopleBase):
    model = TrainingRequirement
    serializer_class = PortalRequirementOut

    def get_scoped_queryset(self) -> QuerySet[TrainingRequirement]:
        return people.training_requirements(self._audit())

    @extend_schema(
        summary="The organization's training requirements",
        description="Each with its number of completions on or before the audit's period end.",
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)


REQUIREMENT_PARAM = OpenApiParameter(
    "requirement", OpenApiTypes.INT, description="Only this requirement's completions."
)


@extend_schema(parameters=[AUDIT_PARAM], tags=["audit people"])
class PortalCompletionViewSet(_PeopleBase):
    model = TrainingCompletion
    serializer_class = PortalCompletionOut

    def get_scoped_queryset(self) -> QuerySet[TrainingCompletion]:
        audit = self._audit()
        raw = self.request.query_params.get("requirement", "")
        requirement = _found(people.training_requirement_get, audit, raw) if raw else None
        return people.training_completions(audit, requirement)

    @extend_schema(
        summary="Training completions",
        description="Completions on or before the audit's period end, newest first.",
        parameters=[REQUIREMENT_PARAM],
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="A completion's certificate",
        description="The file as an attachment (logged in the organization's activity log).",
        responses={
            (200, media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="The certificate, in its detected type."
            )
            for media_type in ("application/pdf", *EXTENSION_FOR_TYPE)
            if media_type != "application/json"
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAccept)
    def certificate(self, request: Request, *args: object, **kwargs: object) -> Any:
        completion = _found(people.training_certificate_get, self._audit(), self.kwargs["pk"])
        response = _found(certificate_response, completion)
        if request.method != "GET":
            return response  # a HEAD sends no content: nothing was read
        try:
            portal_personal_data_record(
                membership=self.principal,
                action="download",
                target=completion,
                object_repr=f"Certificate: {completion.requirement.title}",
                changes={
                    "sha256": [None, completion.certificate_sha256],
                    "client_ip": [None, client_ip(request._request)],
                },
            )
        except BaseException:
            response.close()
            raise
        return response


@extend_schema(parameters=[AUDIT_PARAM], tags=["audit people"])
class PortalSampledChecklistViewSet(_PeopleBase):
    model = Checklist
    serializer_class = PortalSampledChecklistOut

    def get_scoped_queryset(self) -> list[dict[str, Any]]:  # type: ignore[override]
        rows = []
        for group in people.sampled_checklists(self._audit(), timezone.localdate()):
            for item, checklist in group.rows:
                rows.append(
                    {
                        "sample": group.sample.pk,
                        "sample_number": group.sample.number,
                        "population_item": item.population_item.item_id,
                        "description": item.population_item.description,
                        "kind": group.kind,
                        "person": checklist.person if checklist else None,
                        "checklist": checklist,
                    }
                )
        return rows

    @extend_schema(
        summary="Checklists of the sampled joiners and leavers",
        description="For each sample drawn from the roster's new hires or leavers in this "
        "audit, each sampled person's onboarding or offboarding checklist (null when none "
        "was opened), items marked late when done after their due date or open past it.",
    )
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)
