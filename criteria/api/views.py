"""Read-only catalog API: frameworks, categories, criteria and the OSCAL export."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from criteria import selectors
from criteria.api.serializers import CategorySerializer, CriterionSerializer, FrameworkSerializer
from criteria.models import Category, Criterion, Framework
from criteria.oscal import catalog_to_oscal

FRAMEWORK_PARAM = OpenApiParameter(
    "framework", str, description="Framework key (default: the catalog's default framework)."
)


class CriterionFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__key", max_length=40)
    series = django_filters.CharFilter(field_name="series__key", max_length=10)
    q = django_filters.CharFilter(method="search", max_length=100, label="Text search")

    class Meta:
        model = Criterion
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(ref__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """Frameworks in the catalog (each version is its own framework)."""

    serializer_class = FrameworkSerializer
    queryset = Framework.objects.order_by("name", "version")
    lookup_field = "key"
    filter_backends: list = []

    @extend_schema(
        responses={200: OpenApiTypes.OBJECT}, summary="The framework as an OSCAL catalog"
    )
    @action(detail=True, methods=["get"])
    def oscal(self, request: Request, key: str | None = None) -> Response:
        return Response(catalog_to_oscal(self.get_object()))

    @extend_schema(
        responses={200: CategorySerializer(many=True)}, summary="Categories of the framework"
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def categories(self, request: Request, key: str | None = None) -> Response:
        categories = Category.objects.filter(framework=self.get_object()).order_by("position")
        return Response(CategorySerializer(categories, many=True).data)


@extend_schema(parameters=[FRAMEWORK_PARAM])
class CriterionViewSet(viewsets.ReadOnlyModelViewSet):
    """Criteria with their points of focus, crosswalk and the library templates mapped to them."""

    serializer_class = CriterionSerializer
    filterset_class = CriterionFilter
    lookup_field = "ref"
    lookup_value_regex = r"[A-Za-z0-9.]+"
    ordering_fields = ["position", "ref"]
    ordering = ["position"]

    def get_queryset(self) -> QuerySet[Criterion]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no database access
            return Criterion.objects.none()
        return selectors.criteria_list(
            selectors.framework_get(self.request.query_params.get("framework"))
        )

    def get_object(self) -> Criterion:
        framework = selectors.framework_get(self.request.query_params.get("framework"))
        return selectors.criterion_get(framework, self.kwargs["ref"])
