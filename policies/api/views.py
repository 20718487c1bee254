"""The policies API under /api/v1/orgs/<slug>/policies/: list and read (every role but
auditors; drafts for managers and the named approver), adopt or write, settings, the draft,
and the approval steps (only the named approver, a person, approves)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from evidence.api.serializers import VersionDetailOut
from policies import selectors, services
from policies.api.serializers import (
    DraftIn,
    LibraryOut,
    PolicyIn,
    PolicyOut,
    PolicyVersionOut,
    ReturnIn,
    SettingsIn,
)
from policies.evidence import acceptance_snapshot_record
from policies.models import Policy, PolicyVersion
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import Conflict, NotFound, ValidationFailed


@extend_schema(tags=["policies"])
@extend_schema_view(
    list=extend_schema(summary="List policies"),
    retrieve=extend_schema(summary="A policy"),
)
class PolicyViewSet(
    TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    model = Policy
    serializer_class = PolicyOut
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_scoped_queryset(self):
        return selectors.policies_overview(self.organization).order_by("title", "id")

    def get_object(self) -> Policy:
        pk = object_id(self.kwargs["pk"], "policy")
        found = self.get_scoped_queryset().filter(pk=pk).first()
        if found is None:
            raise NotFound("No such policy.")
        return found

    def _one(self, pk: int) -> Response:
        return Response(PolicyOut(self.get_scoped_queryset().get(pk=pk)).data)

    @extend_schema(
        summary="Adopt a library policy or write one", request=PolicyIn, responses={201: PolicyOut}
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = PolicyIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values.get("library_key"):
            policy = services.policy_adopt(membership=self.principal, key=values["library_key"])
        else:
            policy = services.policy_create(
                membership=self.principal,
                title=values["title"],
                body=values["body"],
                summary=values.get("summary", ""),
            )
        response = self._one(policy.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(
        summary="Change owner, approver or review cadence", request=SettingsIn, responses=PolicyOut
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        policy = self.get_object()
        data = SettingsIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ids = {k: values.get(k, getattr(policy, f"{k}_id")) for k in ("owner", "approver")}
        members = {m.pk: m for m in selectors.members_by_id(self.organization, list(ids.values()))}
        for name, member_id in ids.items():
            if member_id is not None and member_id not in members:
                raise ValidationFailed("No such member in this organization.", field=name)
        services.policy_settings(
            membership=self.principal,
            policy=policy,
            owner=members.get(ids["owner"]),
            approver=members.get(ids["approver"]),
            review_cadence_months=values.get("review_cadence_months", policy.review_cadence_months),
        )
        return self._one(policy.pk)

    @extend_schema(summary="The policy library", responses=LibraryOut(many=True))
    @action(detail=False, methods=["get"])
    def library(self, request: Request, *args: object, **kwargs: object) -> Response:
        rows = [
            {**entry.__dict__, "adopted_policy": adopted}
            for entry, adopted in selectors.library_rows(self.organization)
        ]
        page = self.paginate_queryset(rows)  # paginated like every list (16 entries: one page)
        return self.get_paginated_response(LibraryOut(page, many=True).data)

    @extend_schema(
        summary="Versions (drafts only for managers and the named approver)",
        responses=PolicyVersionOut(many=True),
    )
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, *args: object, **kwargs: object) -> Response:
        policy = self.get_object()
        page = self.paginate_queryset(selectors.versions_for(self.principal, policy))
        return self.get_paginated_response(PolicyVersionOut(page, many=True).data)

    @extend_schema(
        summary="Start the next version (a draft from the approved text)",
        request=None,
        responses={201: PolicyVersionOut},
    )
    @action(detail=True, methods=["post"], url_path="versions/new")
    def version_new(self, request: Request, *args: object, **kwargs: object) -> Response:
        version = services.version_start(membership=self.principal, policy=self.get_object())
        return Response(PolicyVersionOut(version).data, status=status.HTTP_201_CREATED)

    def _open(self, policy: Policy) -> PolicyVersion:
        if not selectors.sees_drafts(self.principal, policy):
            raise NotFound("No version is being written or reviewed.")
        version = selectors.open_version(policy)
        if version is None:
            raise Conflict("No version is being written or reviewed: start one.")
        return version

    @extend_schema(summary="Replace the draft's text", request=DraftIn, responses=PolicyVersionOut)
    @action(detail=True, methods=["patch"])
    def draft(self, request: Request, *args: object, **kwargs: object) -> Response:
        policy = self.get_object()
        data = DraftIn(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.version_edit(
            membership=self.principal, version=self._open(policy), **data.validated_data
        )
        return Response(PolicyVersionOut(version).data)

    def _step(self, step: Any, policy: Policy | None = None, **kwargs: Any) -> Response:
        policy = policy or self.get_object()
        version = step(membership=self.principal, version=self._open(policy), **kwargs)
        return Response(PolicyVersionOut(version).data)

    @extend_schema(
        summary="Send the draft to the approver", request=None, responses=PolicyVersionOut
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self._step(services.version_submit)

    @extend_schema(summary="Approve (the named approver)", request=None, responses=PolicyVersionOut)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self._step(services.version_approve)

    @extend_schema(
        summary="Return for changes (the named approver)",
        request=ReturnIn,
        responses=PolicyVersionOut,
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, *args: object, **kwargs: object) -> Response:
        policy = self.get_object()  # another organization's policy: 404 before any 400
        data = ReturnIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._step(services.version_return, policy, note=data.validated_data["note"])

    @extend_schema(
        summary="Record the month-to-date acceptance figures as evidence (managers)",
        description="One system-generated version, accepted automatically, on each control the "
        "policy supports: the current version, people covered, accepted, rate, not yet "
        "accepted, as of today, effective from the first of the month.",
        request=None,
        responses={201: VersionDetailOut(many=True)},
    )
    @action(detail=True, methods=["post"], url_path="acceptance-evidence", pagination_class=None)
    def acceptance_evidence(self, request: Request, *args: object, **kwargs: object) -> Response:
        versions = acceptance_snapshot_record(membership=self.principal, policy=self.get_object())
        context = {**self.get_serializer_context(), "organization": self.organization}
        body = VersionDetailOut(versions, many=True, context=context).data
        return Response(body, status=status.HTTP_201_CREATED)
