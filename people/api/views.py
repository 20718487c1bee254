"""The roster API under /api/v1/orgs/<slug>/people/: list (with filters), read, add, change,
end (a leaver), anonymise (a leaver past retention), and a CSV import with ``dry_run``.
Managers only (owners, admins, compliance managers and their ``admin``/``compliance_manager``
keys): the roster is personal data, so contributors and read-only keys are refused even the
list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from people import anonymise, imports, selectors, services
from people.api.serializers import (
    PersonEndIn,
    PersonFilterIn,
    PersonImportIn,
    PersonImportOut,
    PersonIn,
    PersonOut,
    PersonPatchIn,
)
from people.models import Person
from people.selectors import RosterFilter
from soc2app.api.imports import import_response, import_upload
from soc2app.api.parsers import SafeJSONParser
from soc2app.api.serializers import ErrorOut
from soc2app.api.tenancy import TenantViewSetMixin, object_id
from soc2app.errors import ValidationFailed
from soc2app.uploads import accepts_uploads
from tenants.models import Membership
from tenants.permissions import Action

FILTERS = [
    OpenApiParameter("q", str, description="Name or e-mail contains."),
    OpenApiParameter("department", str),
    OpenApiParameter("employment_type", str, enum=["employee", "contractor", "intern"]),
    OpenApiParameter(
        "state",
        str,
        enum=["active", "joiners", "leavers"],
        description="active: today; joiners: start date in date_from..date_to; leavers: end "
        "date in that range.",
    ),
    OpenApiParameter("date_from", str, description="YYYY-MM-DD"),
    OpenApiParameter("date_to", str, description="YYYY-MM-DD"),
]


@extend_schema(tags=["people"])
@extend_schema_view(
    list=extend_schema(summary="List the roster", parameters=FILTERS),
    retrieve=extend_schema(summary="A person"),
)
@accepts_uploads
class PersonViewSet(
    TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    model = Person
    serializer_class = PersonOut
    filter_backends: list = []
    parser_classes = [SafeJSONParser, MultiPartParser]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.require(Action.PEOPLE_MANAGE)  # reading the roster too: it is personal data

    def get_scoped_queryset(self) -> QuerySet[Person]:
        if self.action != "list":
            return selectors.people_list(self.organization)
        data = PersonFilterIn(data=self.request.query_params)
        data.is_valid(raise_exception=True)
        return selectors.people_list(
            self.organization, RosterFilter(**data.validated_data), today=timezone.localdate()
        )

    def get_object(self) -> Person:
        return selectors.person_get(self.organization, object_id(self.kwargs["pk"], "person"))

    def _one(self, person: Person, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.person_get(self.organization, person.pk)
        return Response(PersonOut(fresh).data, status=code)

    def _relations(self, values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "manager" in values:
            pk = values.pop("manager")
            out["manager"] = selectors.people_by_id(self.organization, [pk]).get(pk) if pk else None
            if pk and out["manager"] is None:
                raise ValidationFailed("No such person on the roster.", field="manager")
        if "member" in values:
            pk = values.pop("member")
            org = self.organization
            out["member"] = Membership.objects.for_org(org).filter(pk=pk).first() if pk else None
            if pk and out["member"] is None:
                raise ValidationFailed("No such member in this organization.", field="member")
        return out

    @extend_schema(summary="Add a person", request=PersonIn, responses={201: PersonOut})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = PersonIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        related = self._relations(values)
        person = services.person_create(membership=self.principal, **values, **related)
        return self._one(person, status.HTTP_201_CREATED)

    @extend_schema(summary="Change a person", request=PersonPatchIn, responses=PersonOut)
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        person = self.get_object()
        data = PersonPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        related = self._relations(values)
        services.person_update(membership=self.principal, person=person, **values, **related)
        return self._one(person)

    @extend_schema(
        summary="End a person (a leaver)",
        description="Records their last day; never before their start date. A leaver stays "
        "on the roster.",
        request=PersonEndIn,
        responses=PersonOut,
    )
    @action(detail=True, methods=["post"])
    def end(self, request: Request, *args: object, **kwargs: object) -> Response:
        person = self.get_object()
        data = PersonEndIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.person_end(membership=self.principal, person=person, **data.validated_data)
        return self._one(person)

    @extend_schema(
        summary="Anonymise a leaver past the retention period",
        description="Replaces the person's name, e-mail address and title, removes their "
        "manager and linked member, deletes their open personal links, and erases the IP "
        "address and user agent of their acceptance and training records (which keep their "
        "hashes, dates and consent). Only for a leaver whose last day is more than "
        "`PERSON_RETENTION_DAYS` days ago: otherwise 409 (`code` `not_a_leaver` or "
        "`retention_not_over`, the message says from when). Anonymising again changes nothing.",
        request=None,
        responses={
            200: PersonOut,
            409: OpenApiResponse(ErrorOut, description="Not a leaver, or retention not over."),
        },
    )
    @action(detail=True, methods=["post"])
    def anonymise(self, request: Request, *args: object, **kwargs: object) -> Response:
        person = anonymise.person_anonymise(membership=self.principal, person=self.get_object())
        return self._one(person)

    @extend_schema(
        summary="Import a CSV roster",
        description="Multipart `file` (UTF-8 CSV with the header "
        f"`{','.join(imports.COLUMNS)}`; `full_name`, `email`, `start_date` required; at most "
        f"{imports.MAX_ROWS:,} rows). Rows are matched by e-mail: a known address updates that "
        "person. With `dry_run=true` nothing is written and the answer lists what would "
        "happen and every refused row (row, column, message). Without it the file is imported "
        "all or nothing: 200 with the counts, or 400 (`code` `import_rejected`) with the "
        "refused rows under `errors.rows`.",
        request={"multipart/form-data": PersonImportIn},
        responses={200: PersonImportOut},
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_csv(self, request: Request, *args: object, **kwargs: object) -> Response:
        upload = import_upload(request, PersonImportIn, imports.MAX_BYTES)
        if upload.dry_run:
            plan = imports.plan_import(self.organization, upload.data)
        else:
            try:
                plan = imports.import_apply(
                    membership=self.principal, data=upload.data, name=upload.name
                )
            except imports.ImportRejected as exc:
                plan = exc.plan
        body = PersonImportOut(
            {
                "dry_run": upload.dry_run,
                "ok": plan.ok,
                "sha256": plan.sha256,
                "created": len(plan.to_create),
                "updated": len(plan.to_update),
                "unchanged": plan.unchanged,
                "error_count": plan.error_count,
                "errors": plan.errors,
            }
        ).data
        return import_response(plan, body, dry_run=upload.dry_run)
