"""Inserting many rows without building a model instance per row (a run of 50,000 results).

On PostgreSQL one ``INSERT ... SELECT * FROM unnest(<one array per column>)`` per ``CHUNK``
rows; elsewhere (SQLite, small data) the ORM's ``bulk_create``. Rows are tuples in the order of
``fields`` (model field names; a foreign key takes the related id), with Python values (a
JSONField's dict, aware datetimes). Runs in ``organization``'s scope, as ``bulk_create`` does,
so row-level security checks every row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from django.db import connection, models

from tenants.context import current_org_id, org_scope

CHUNK = 10_000


def _array_type(field: models.Field) -> str:
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return f"{field.db_type(connection)}[]"


def bulk_insert(
    model: type[models.Model],
    organization_id: int,
    fields: Sequence[str],
    rows: Sequence[tuple],
    returning: Sequence[str] = (),
) -> list[tuple]:
    """Insert ``rows``; returns the ``returning`` columns (attnames, e.g. "id",
    "check_ref_id") of each new row, in no particular order."""
    if not rows:
        return []
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    if connection.vendor != "postgresql":
        names = [c.attname for c in columns]
        objs = model.objects.bulk_create(
            [model(**dict(zip(names, r, strict=True))) for r in rows], 500
        )
        return [tuple(getattr(o, a) for a in returning) for o in objs] if returning else []
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c.column) for c in columns)}) "  # noqa: S608 (model metadata, no input)
        f"SELECT * FROM unnest({', '.join(f'%s::{_array_type(c)}' for c in columns)})"
    )
    if returning:
        sql += " RETURNING " + ", ".join(quote(meta.get_field(a).column) for a in returning)
    inserted: list[tuple] = []
    is_json = [isinstance(c, models.JSONField) for c in columns]
    scope = org_scope(organization_id) if current_org_id() is None else nullcontext()
    with scope, connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            arrays: list[list[Any]] = [list(column) for column in zip(*chunk, strict=True)]
            for i, dumped in enumerate(is_json):
                if dumped:
                    arrays[i] = [json.dumps(v) for v in arrays[i]]
            cursor.execute(sql, arrays)
            if returning:
                inserted.extend(tuple(r) for r in cursor.fetchall())
    return inserted
