"""The API's filter backend: django-filter's, skipped when the request names no filter.

Building and validating a ``FilterSet`` (a Django form) costs more than the rest of a list
request on a small page; with none of its parameters in the query string it would return the
queryset unchanged, so it is not built at all.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters
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


class OrderingFilter(filters.OrderingFilter):
    """DRF's ``?ordering=``, with the primary key as the last key: rows that tie on the
    chosen fields (a status, a due date) keep one order from page to page, so paging never
    repeats or skips one."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> list | None:
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not {"pk", "-pk", "id", "-id"} & set(ordering):
            ordering = [*ordering, "pk"]
        return ordering
