"""The checklists API under /api/v1/orgs/<slug>/:

* ``checklist-templates/`` (list) and ``checklist-templates/<kind>/`` (read; ``PUT`` replaces
  its items): managers and their keys (created with the default items on first need);
* ``checklists/`` (list: ``kind``, ``state``, ``late``, ``person``) and ``checklists/<id>/``
  (with its items): managers and their keys (the checklists name people: personal data);
* ``checklist-items/<id>/done/`` (JSON, or multipart with an evidence ``file``) and
  ``checklist-items/<id>/reopen/``: marking done is for managers and the item's owner (a
  contributor signed in: keys own no item), reopening for managers. Another organization's
  ids, and a contributor's request for an item that is not theirs, are 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from people import selectors_checklists as selectors
from people.api.serializers_checklists import (
    ChecklistDetailOut,
    ChecklistFilterIn,
    ChecklistItemOut,
    ChecklistOut,
    ItemDoneIn,
    TemplateIn,
    TemplateOut,
)
from people.checklist_items import checklist_item_done, checklist_item_reopen
from people.checklists import checklist_template_update, template_for
from people.models_checklists import Checklist, ChecklistItem, ChecklistKind, ChecklistTemplate
from people.selectors_checklists import ChecklistFilter
from soc2app.api.parsers import SafeJSONParser
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import NotFound, ValidationFailed
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from tenants.activity import Actor
from tenants.permissions import Action


class _ManagersOnly:
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self.require(Action.PEOPLE_MANAGE)  # type: ignore[attr-defined]


@extend_schema(tags=["checklists"])
@extend_schema_view(
    list=extend_schema(summary="The onboarding and offboarding templates"),
    retrieve=extend_schema(summary="A checklist template"),
)
class ChecklistTemplateViewSet(
    _ManagersOnly,
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    model = ChecklistTemplate
    serializer_class = TemplateOut
    lookup_field = "kind"
    lookup_value_regex = "[a-z]+"
    filter_backends: list = []
    http_method_names = ["get", "put", "head", "options"]

    def _templates(self) -> dict[str, tuple]:
        actor = Actor.for_principal(self.principal)
        return {kind: template_for(self.organization, kind, actor=actor) for kind in ChecklistKind}

    def get_scoped_queryset(self) -> QuerySet[ChecklistTemplate]:
        return ChecklistTemplate.objects.for_org(self.organization).order_by("kind")

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        found = self._templates()
        templates = [template for template, _ in found.values()]
        items = {kind: items for kind, (_, items) in found.items()}
        page = self.paginate_queryset(templates)
        data = TemplateOut(page, many=True, context={"items": items}).data
        return self.get_paginated_response(data)

    def _one(self, kind: str) -> Response:
        if kind not in ChecklistKind.values:
            raise NotFound("No such checklist template: onboarding or offboarding.")
        template, items = template_for(
            self.organization, kind, actor=Actor.for_principal(self.principal)
        )
        return Response(TemplateOut(template, context={"items": {kind: items}}).data)

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self._one(str(kwargs["kind"]))

    @extend_schema(summary="Replace a template's items", request=TemplateIn, responses=TemplateOut)
    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        kind = str(kwargs["kind"])
        if kind not in ChecklistKind.values:
            raise NotFound("No such checklist template: onboarding or offboarding.")
        data = TemplateIn(data=request.data)
        data.is_valid(raise_exception=True)
        items = [
            {
                **{k: v for k, v in row.items() if k not in ("owner_id", "control_id")},
                "owner": row["owner_id"],
                "control": row["control_id"],
            }
            for row in data.validated_data["items"]
        ]
        checklist_template_update(membership=self.principal, kind=kind, items=items)
        return self._one(kind)


FILTERS = [
    OpenApiParameter("kind", str, enum=ChecklistKind.values),
    OpenApiParameter("state", str, enum=["open", "done", "all"], description="Default: open."),
    OpenApiParameter("late", bool, description="Only checklists with a late item."),
    OpenApiParameter("person", int, description="One person's checklists."),
]


@extend_schema(tags=["checklists"])
@extend_schema_view(
    list=extend_schema(summary="Joiners' and leavers' checklists", parameters=FILTERS),
    retrieve=extend_schema(summary="A checklist with its items", responses=ChecklistDetailOut),
)
class ChecklistViewSet(
    _ManagersOnly,
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    model = Checklist
    serializer_class = ChecklistOut
    filter_backends: list = []

    def get_scoped_queryset(self) -> QuerySet[Checklist]:
        data = ChecklistFilterIn(data=self.request.query_params)
        data.is_valid(raise_exception=True)
        return selectors.checklist_list(
            self.organization,
            ChecklistFilter(**{"kind": "", **data.validated_data}),
            today=timezone.localdate(),
        )

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        pk = object_id(kwargs["pk"], "checklist")
        found = (
            selectors.checklist_list(
                self.organization,
                ChecklistFilter(state=selectors.ChecklistState.ANY),
                today=timezone.localdate(),
            )
            .prefetch_related("items__owner__user", "items__control")
            .filter(pk=pk)
            .first()
        )
        if found is None:
            raise NotFound("No such checklist.")
        return Response(ChecklistDetailOut(found).data)


@extend_schema(tags=["checklists"])
@extend_schema_view(retrieve=extend_schema(summary="A checklist item"))
@accepts_uploads
class ChecklistItemViewSet(TenantViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    model = ChecklistItem
    serializer_class = ChecklistItemOut
    filter_backends: list = []
    parser_classes = [SafeJSONParser, MultiPartParser]
    http_method_names = ["get", "post", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.require(Action.CHECKLIST_ITEM_DONE)

    def get_scoped_queryset(self) -> QuerySet[ChecklistItem]:
        return ChecklistItem.objects.for_org(self.organization)

    def get_object(self) -> ChecklistItem:
        """Managers see any item, others only theirs (another's is "not found" too)."""
        item = selectors.item_get(self.organization, object_id(self.kwargs["pk"], "item"))
        manager = permissions.can(self.principal, Action.PEOPLE_MANAGE)
        if not manager and item.owner_id != self.principal.pk:
            raise Http404("No such checklist item.")
        if not manager and getattr(self.principal, "is_api_key", False):
            raise Http404("No such checklist item.")
        return item

    @extend_schema(
        summary="Mark an item done",
        description="JSON, or multipart/form-data with an evidence `file` (stored as a new "
        "version on the item's control). An item that requires evidence is refused without a "
        "file or an `evidence_version`. Done after its due date, it is an exception for its "
        "control (a failing system-generated version in the period of its due date).",
        request={"application/json": ItemDoneIn, "multipart/form-data": ItemDoneIn},
        responses=ChecklistItemOut,
    )
    @action(detail=True, methods=["post"])
    def done(self, request: Request, *args: object, **kwargs: object) -> Response:
        item = self.get_object()
        if request.content_type.startswith("multipart/"):
            if (problem := upload_problem(request)) is not None:
                raise problem
            raw = {k: v for k, v in request.data.items() if k != "file"}
            if "file" in request.FILES:
                raw["file"] = request.FILES["file"]
        else:
            raw = request.data
            if hasattr(raw, "keys") and "file" in raw:
                raise ValidationFailed("Send a file as multipart/form-data.", field="file")
        data = ItemDoneIn(data=raw)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        checklist_item_done(
            membership=self.principal,
            item=item,
            done_on=values["done_on"],
            note=values["note"],
            evidence_file=values["file"],
            evidence_version_id=values["evidence_version"],
        )
        return Response(ChecklistItemOut(self.get_object()).data)

    @extend_schema(summary="Reopen an item (managers)", request=None, responses=ChecklistItemOut)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args: object, **kwargs: object) -> Response:
        item = self.get_object()
        checklist_item_reopen(membership=self.principal, item=item)
        return Response(ChecklistItemOut(self.get_object()).data)
