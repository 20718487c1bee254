"""API of an organization's controls: list with filters, detail, create, change, delete,
adopt from the library and bulk changes. Each action validates input, calls a service or a
selector of ``controls`` and serializes; permissions are the services'."""

from __future__ import annotations

from dataclasses import dataclass

import django_filters
from django.db import transaction
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from controls import selectors, services
from controls.api.serializers_controls import (
    AdoptIn,
    AdoptOut,
    BulkIn,
    BulkOut,
    ControlCreateIn,
    ControlOut,
    ControlRowOut,
    ControlUpdateIn,
)
from controls.models import Control, ControlStatus, ControlType, Frequency
from soc2app.api.pagination import WindowCountPagination
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.permissions import Action


@dataclass(frozen=True)
class ControlPage:
    """What ``list`` asks of the database for an unfiltered list, as a value (the key under
    which ``tenants.compiled`` keeps its SQL)."""

    ordering: tuple[str, ...]

    def __call__(self, org_id: int) -> QuerySet[dict]:
        controls = Control.objects.for_org(org_id).order_by(*self.ordering)
        return selectors.control_rows(org_id, controls)


class ControlFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", max_length=100, label="Text in the code, title or description"
    )
    status = django_filters.ChoiceFilter(choices=ControlStatus.choices)
    owner = django_filters.CharFilter(
        method="by_owner", max_length=20, label="Owner's member id, or `none` for nobody"
    )
    frequency = django_filters.ChoiceFilter(choices=Frequency.choices)
    control_type = django_filters.ChoiceFilter(choices=ControlType.choices)
    criterion = django_filters.CharFilter(
        method="by_criterion", max_length=12, label="A mapped criterion, e.g. CC6.1"
    )

    class Meta:
        model = Control
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )

    def by_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip().lower()
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if not (value.isascii() and value.isdigit() and len(value) < 19):
            raise serializers.ValidationError(
                {"owner": ["Give a member id, or none for controls nobody owns."]}
            )
        return queryset.filter(owner_id=int(value))

    def by_criterion(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(mappings__criterion__ref__iexact=value.strip()).distinct()


@extend_schema(tags=["controls"])
@extend_schema_view(
    list=extend_schema(summary="List controls", responses=ControlOut(many=True)),
    retrieve=extend_schema(summary="A control with its criteria", responses=ControlOut),
    destroy=extend_schema(
        summary="Delete a control",
        description="Only a control without evidence can be deleted; otherwise mark it "
        "not applicable.",
        responses={204: None},
    ),
)
class ControlViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """An organization's controls."""

    model = Control
    serializer_class = ControlOut
    filterset_class = ControlFilter
    pagination_class = WindowCountPagination  # short lists: count with the page
    ordering_fields = ["code", "title", "status", "frequency", "due_date", "updated_at"]
    ordering = ["code"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_scoped_queryset(self) -> QuerySet[Control]:
        if self.action == "list":  # rows, see ``list``: no joins or prefetches to prepare
            return Control.objects.for_org(self.organization).order_by("code")
        return selectors.controls_list(self.organization).select_related("template")

    def compiled_list(self, controls: QuerySet) -> tuple[ControlPage, int] | None:
        """The unfiltered list (any ordering) as ``ControlPage``, for ``WindowCountPagination``
        to compile once per ordering and page: the query ``control_rows`` makes of
        ``controls`` (a test compares the two lists). A filtered list (more than the organization
        in its WHERE) is compiled per request by the ORM as usual."""
        query = controls.query
        if len(query.where.children) != 1 or query.distinct or query.extra:
            return None
        return ControlPage(tuple(query.order_by)), self.organization.pk

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        # Rows, not model instances (``ControlRowOut`` gives ``ControlOut``'s output): one
        # query on PostgreSQL whatever the page size (the page, its count and criteria).
        # Unfiltered, the pagination makes the rows itself (``compiled_list``).
        controls = self.filter_queryset(self.get_queryset())
        if self.compiled_list(controls) is None:
            controls = selectors.control_rows(self.organization, controls)
        page = self.paginate_queryset(controls)
        rows = selectors.with_criteria_refs(self.organization, list(page or []))
        return self.get_paginated_response(ControlRowOut(rows, many=True).data)

    def get_object(self) -> Control:
        return selectors.control_get_for(self.organization, object_id(self.kwargs["pk"], "control"))

    def _fetch(self, control: Control) -> Control:
        """The control again, with its owner, template and criteria for the response."""
        return selectors.control_get_for(self.organization, control.pk)

    @extend_schema(summary="Create a control", request=ControlCreateIn, responses={201: ControlOut})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        self.require(Action.CONTROL_MANAGE)
        data = ControlCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        control = services.control_create(membership=self.principal, **data.validated_data)
        return Response(ControlOut(self._fetch(control)).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a control", request=ControlUpdateIn, responses=ControlOut)
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        control = self.get_object()
        permissions.require_control_edit(self.principal, control)
        data = ControlUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        criteria = changes.pop("criteria", None)
        with transaction.atomic():  # the fields and the criteria change together or not at all
            if changes:
                services.control_update(membership=self.principal, control=control, **changes)
            if criteria is not None:
                services.control_set_criteria(
                    membership=self.principal, control=control, refs=criteria
                )
        return Response(ControlOut(self._fetch(control)).data)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        control = self.get_object()
        self.require(Action.CONTROL_MANAGE)
        services.control_delete(membership=self.principal, control=control)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Adopt library templates as controls",
        description="Templates whose code the organization already uses are skipped and "
        "listed in `skipped`, so adopting twice creates nothing twice.",
        request=AdoptIn,
        responses={201: AdoptOut},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def adopt(self, request: Request, *args: object, **kwargs: object) -> Response:
        self.require(Action.CONTROL_MANAGE)
        data = AdoptIn(data=request.data)
        data.is_valid(raise_exception=True)
        codes = list(dict.fromkeys(c.strip().upper() for c in data.validated_data["templates"]))
        templates = list(selectors.templates_list().filter(code__in=codes))
        unknown = sorted(set(codes) - {t.code.upper() for t in templates})
        if unknown:
            raise ValidationFailed(
                f"Not in the control library: {', '.join(unknown[:20])}. "
                "See /api/v1/catalog/templates/ for the codes.",
                field="templates",
            )
        result = services.controls_adopt(
            membership=self.principal, templates=templates, owner=data.validated_data["owner"]
        )
        adopted = self.get_scoped_queryset().filter(pk__in=[c.pk for c in result.adopted])
        body = {"adopted": list(adopted), "skipped": sorted(result.skipped)}
        return Response(AdoptOut(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Set the owner and/or status of many controls",
        request=BulkIn,
        responses=BulkOut,
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def bulk(self, request: Request, *args: object, **kwargs: object) -> Response:
        self.require(Action.CONTROL_MANAGE)
        data = BulkIn(data=request.data)
        data.is_valid(raise_exception=True)
        ids = set(data.validated_data["controls"])
        controls = list(self.get_scoped_queryset().filter(pk__in=ids))
        if len(controls) != len(ids):
            raise ValidationFailed(
                "Some of these controls do not exist in this organization; list controls "
                "to get their ids.",
                field="controls",
            )
        changes = {k: v for k, v in data.validated_data.items() if k in ("owner", "status")}
        updated = services.controls_bulk_update(
            membership=self.principal, controls=controls, **changes
        )
        return Response(BulkOut({"updated": updated}).data)
