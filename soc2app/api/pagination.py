"""Page-number pagination for every list endpoint.

Asking for more rows per page than the limit is a 400 that names the limit, rather than a
silently shorter page: an integration that pages with ``page_size=1000`` learns at once that it
must loop. A ``page`` past the end or not a number is a 404 (DRF's "Invalid page.").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Count, QuerySet, Window
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from tenants.compiled import Build, compile_rows, run_rows


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param, "").strip()
        if raw.isascii() and raw.isdigit() and (len(raw) > 6 or int(raw) > self.max_page_size):
            raise ValidationError(
                {self.page_size_query_param: [f"Ask for at most {self.max_page_size} per page."]}
            )
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1)
        return parameters


_TOTAL = "_window_total"
# No list is this long; a larger OFFSET would overflow the database's bigint (a 500).
MAX_OFFSET = 2**31


@dataclass(frozen=True)
class _WindowedPage:
    """``build``'s queryset counted and sliced as ``WindowCountPaginator.page`` does (a
    value, so that ``compile_rows`` can cache on it)."""

    build: Build
    bottom: int
    top: int

    def __call__(self, org_id: int) -> QuerySet:
        counted = self.build(org_id).annotate(**{_TOTAL: Window(Count("*"))})
        return counted[self.bottom : self.top]


class WindowCountPaginator(Paginator):
    """Counts the rows with the page itself (``COUNT(*) OVER ()``): one query, not two.

    For short lists only (an organization's controls): the window makes the database read
    every matching row before the page's LIMIT, which a long list should not pay. A queryset
    the window cannot count correctly (DISTINCT, GROUP BY, a union) and an empty page fall
    back to ``Paginator``'s separate count.

    ``compiled``: optionally, ``(build, org_id)`` where ``build(org_id)`` makes the rows of
    the page (``tenants.compiled``): the page's SQL is then compiled once per shape and page,
    not on every request, and ``object_list`` need only count the same rows (the view's
    queryset before it became rows, which costs nothing to make).
    """

    def __init__(self, *args: Any, compiled: tuple | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.compiled = compiled

    def _fallback(self, number: Any) -> Page:
        """Django's own page: a separate count, and the rows through the ORM."""
        if self.compiled is not None:
            build, org_id = self.compiled
            self.object_list = build(org_id)
            self.compiled = None
        return super().page(number)

    def _rows(self, bottom: int) -> list:
        top = bottom + self.per_page
        if self.compiled is not None:
            build, org_id = self.compiled
            sql = compile_rows(_WindowedPage(build, bottom, top))
            if sql is not None:
                return run_rows(sql, org_id)
            self.object_list = build(org_id)
        counted = self.object_list.annotate(**{_TOTAL: Window(Count("*"))})
        return list(counted[bottom:top])

    def _windowable(self) -> bool:
        query = getattr(self.object_list, "query", None)
        return (
            query is not None
            and connections[self.object_list.db].features.supports_over_clause
            and not query.distinct
            and query.group_by is None
            and query.combinator is None
            and not query.is_sliced
        )

    def page(self, number: Any) -> Page:
        if not self._windowable() or "count" in self.__dict__:
            return self._fallback(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            return self._fallback(number)  # Django's own "not a number" error
        bottom = (number - 1) * self.per_page
        if number < 1 or bottom > MAX_OFFSET:  # past any real list: Django's count says 404
            return self._fallback(number)
        rows = self._rows(bottom)
        if not rows:
            return self._fallback(number)  # counts separately: empty list, or past the end
        for row in rows:
            total = row.pop(_TOTAL) if isinstance(row, dict) else row.__dict__.pop(_TOTAL)
        self.__dict__["count"] = total  # ``count`` is a cached property
        return self._get_page(rows, number, self)


class WindowCountPagination(PageNumberPagination):
    django_paginator_class = WindowCountPaginator

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        # The view may offer the list compiled once per shape (``compiled_list``, see above).
        compiled = view.compiled_list(queryset) if hasattr(view, "compiled_list") else None
        self.django_paginator_class = functools.partial(WindowCountPaginator, compiled=compiled)
        return super().paginate_queryset(queryset, request, view)
