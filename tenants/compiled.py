"""Organization-scoped ``values()`` querysets compiled to SQL once per shape, run for any
organization.

Building a queryset and compiling it to SQL (the ORM's Python work) costs more than the
database spends running it on a short list page. A hot list whose only query parameter is
the organization can be compiled once, with a placeholder organization, and the same SQL run
again for any organization, passed as every parameter; the values read are converted as the
ORM converts them (the converters of each column's output field). ``compiled_rows`` does that, and
refuses (returns None: the caller uses the ORM) wherever the reuse could differ from what the
ORM would do:

- a parameter other than the organization (a filter value), or the placeholder written into
  the SQL itself;
- anything but a ``values()`` queryset (model instances are the ORM's job).

The SQL runs through Django's cursor, so row-level security, query logging and query counts
see it as any other query, with the organization current (``org_scope``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable

from tenants.context import org_scope

# No organization has a negative id: marks where the organization goes in the SQL.
PLACEHOLDER_ORG = -7_405_219_386_117

Build = Callable[[int], QuerySet]


@dataclass(frozen=True)
class CompiledRows:
    sql: str
    parameters: int  # how many times the organization id is passed
    names: tuple[str, ...]  # the keys of each row, in column order
    using: str
    # Column index -> (the ORM's converters of that column, its expression).
    converters: tuple[tuple[int, tuple[list, object]], ...]


@functools.lru_cache(maxsize=512)
def compile_rows(build: Build) -> CompiledRows | None:
    """The SQL of ``build(org_id)`` for any organization, or None if it cannot be reused.

    ``build`` is the cache key: a value (a frozen dataclass holding the ordering, the slice,
    ...) such that equal builds make the same query for the same organization.
    """
    queryset = build(PLACEHOLDER_ORG)
    query = queryset.query
    if queryset._iterable_class is not ValuesIterable:
        return None
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    if not params or any(p != PLACEHOLDER_ORG for p in params):
        return None
    if str(PLACEHOLDER_ORG) in sql or str(-PLACEHOLDER_ORG) in sql:
        return None
    columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
    converters = tuple(compiler.get_converters(columns).items())
    if query.selected:
        names = tuple(query.selected)
    else:
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    if len(names) != compiler.col_count:
        return None
    return CompiledRows(sql, len(params), names, queryset.db, converters)


def run_rows(compiled: CompiledRows, org_id: int) -> list[dict]:
    """The rows of ``compiled`` for ``org_id``: what ``list(build(org_id))`` returns."""
    names = compiled.names
    connection = connections[compiled.using]
    with org_scope(org_id), connection.cursor() as cursor:
        cursor.execute(compiled.sql, [org_id] * compiled.parameters)
        rows = cursor.fetchall()
    if compiled.converters:  # as ``SQLCompiler.apply_converters``
        rows = [list(row) for row in rows]
        for row in rows:
            for index, (functions, expression) in compiled.converters:
                for convert in functions:
                    row[index] = convert(row[index], expression, connection)
    return [dict(zip(names, row, strict=True)) for row in rows]
