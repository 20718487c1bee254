"""The API's filter backend: django-filter's, skipped when the request names no filter.

Building and validating a ``FilterSet`` (a Django form) costs more than the rest of a list
request on a small page; with none of its parameters in the query string it would return the
queryset unchanged, so it is not built at all.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request
from rest_framework.views import APIView


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        # By prefix: range-style filters read ``<name>_after``, ``<name>_min`` and the like.
        names = tuple(filterset_class.base_filters)
        if not any(param.startswith(names) for param in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
