"""Writing an import's plan: set-based, a constant number of statements per batch.

New people are one ``INSERT`` per ``BATCH`` rows (their ids come back). Changes to known people
and every manager link are ``UPDATE ... FROM unnest(arrays)`` on PostgreSQL: one statement per
column group and ``SQL_BATCH`` rows, no per-row ``CASE`` (Django's ``bulk_update`` builds a
``CASE WHEN id = ...`` per row, which is quadratic work for the database on thousands of
rows). Other databases use ``bulk_update``. Row-level security checks each row against the
current organization all the same, and the statements name the organization too.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from django.db import connection

from people.models import Person
from tenants.context import current_org_id, org_scope
from tenants.models import Organization

if TYPE_CHECKING:
    from people.imports import Plan

BATCH = 1000  # rows per INSERT
SQL_BATCH = 10_000  # rows per UPDATE ... FROM unnest
_SQL_TYPES = {
    "full_name": "text",
    "title": "text",
    "department": "text",
    "employment_type": "text",
    "start_date": "date",
    "end_date": "date",
    "manager_id": "bigint",
}


def bulk_set(org_id: int, columns: Sequence[str], rows: list[tuple[int, Sequence[Any]]]) -> None:
    """Set ``columns`` of each ``(person id, values)`` in ``rows``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        fields = [c.removesuffix("_id") for c in columns]
        objs = [Person(pk=pk, **dict(zip(columns, values, strict=True))) for pk, values in rows]
        Person.objects.for_org(org_id).bulk_update(objs, fields, batch_size=BATCH)
        return
    table = connection.ops.quote_name(Person._meta.db_table)
    names = ", ".join(f"{c} = u.{c}" for c in columns)
    arrays = ", ".join(f"%s::{_SQL_TYPES[c]}[]" for c in columns)
    sql = (
        f"UPDATE {table} AS p SET {names} FROM unnest(%s::bigint[], {arrays}) "  # noqa: S608 (fixed names)
        f"AS u(id, {', '.join(columns)}) WHERE p.id = u.id AND p.organization_id = %s"
    )
    scope = nullcontext() if current_org_id() == org_id else org_scope(org_id)
    with scope, connection.cursor() as cursor:
        for first in range(0, len(rows), SQL_BATCH):
            batch = rows[first : first + SQL_BATCH]
            params: list[Any] = [[pk for pk, _ in batch]]
            for index in range(len(columns)):
                params.append([values[index] for _, values in batch])
            cursor.execute(sql, [*params, org_id])


def plan_write(org: Organization, plan: Plan) -> tuple[list[int], list[int]]:
    """Write a valid plan; returns the ids created and the ids updated."""
    new = [Person(organization=org, email=line.email, **line.values) for line in plan.to_create]
    Person.objects.bulk_create(new, batch_size=BATCH)
    for line, person in zip(plan.to_create, new, strict=True):
        line.person_id = person.pk
    changed = plan.to_update
    for column in ("full_name", "title", "department", "employment_type"):
        rows = [
            (line.person_id, [line.values[column]]) for line in changed if column in line.changes
        ]
        bulk_set(org.pk, [column], rows)
    # Both dates together: "end after start" holds after the statement whatever moved.
    dates = {"start_date", "end_date"}
    rows = [(line.person_id, list(line.dates)) for line in changed if dates & set(line.changes)]
    bulk_set(org.pk, ["start_date", "end_date"], rows)
    if "manager_email" in plan.columns:
        ids = {line.email: line.person_id for line in plan.lines}
        missing = {line.manager_email for line in plan.lines if line.manager_email} - set(ids)
        known = Person.objects.for_org(org).filter(email__in=missing).values_list("email", "id")
        ids |= dict(known)
        moves = [
            (line.person_id, [ids.get(line.manager_email)])
            for line in plan.lines
            if (line.is_new and line.manager_email) or "manager_email" in line.changes
        ]
        bulk_set(org.pk, ["manager_id"], moves)
    return [p.pk for p in new], [line.person_id for line in changed]
