"""Importing the roster from a CSV file: a plan (what would be created, updated, or refused,
row by row) and its application, all or nothing.

The file: UTF-8 (a byte-order mark is accepted), comma-separated, a header row naming the
columns, case-insensitive, in any order:

    full_name, email, start_date          required
    title, department, manager_email, employment_type, end_date      optional

At most ``MAX_ROWS`` rows and ``MAX_BYTES``. Dates are ISO (``YYYY-MM-DD``); employment type is
``employee`` (default), ``contractor`` or ``intern``. Rows are matched to the roster by e-mail
(lower-case): a known address updates that person, a new one adds a person. On an update, a
column left out of the header leaves the field as it is; a column present with an empty cell
clears it (an empty ``end_date`` un-ends a leaver). ``manager_email`` names a person in the
file or already on the roster.

Rows are numbered as lines of the file (the header is row 1). Nothing is written while any
row is refused. The plan reads the roster in one query; applying it writes in a constant
number of statements per batch of rows (``people.bulk``) and one activity entry for the whole import (counts,
the file's SHA-256 and the ids created and updated); the joiners' and leavers' checklists the
new dates open are opened in the same transaction, set-based too (``people.checklists``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from people import rules
from people.bulk import plan_write
from people.checklists import checklists_sync
from people.models import Person
from soc2app.csv_import import (
    ImportRejected,
    Problems,
    Spec,
    echo,
    read_table,
)
from soc2app.errors import Conflict
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Organization
from tenants.permissions import Action

# ImportRejected is re-exported: callers catch it as imports.ImportRejected.
__all__ = ["ImportRejected", "Plan", "import_apply", "plan_import"]

REQUIRED = ("full_name", "email", "start_date")
OPTIONAL = ("title", "department", "manager_email", "employment_type", "end_date")
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
# The fields an import writes, and the columns they come from.
_TEXT = (
    ("full_name", "full name", rules.NAME_MAX, True),
    ("title", "title", rules.TITLE_MAX, False),
    ("department", "department", rules.DEPARTMENT_MAX, False),
)
FIELDS = ("full_name", "title", "department", "employment_type", "start_date", "end_date")


@dataclass
class Line:
    """One valid row: the values it sets (only its file's columns) and its manager's address."""

    number: int
    email: str
    values: dict[str, Any]
    manager_email: str | None  # None: no manager_email column; "": no manager
    person_id: int | None = None  # the matched roster entry, or the one created
    is_new: bool = True
    changes: dict[str, list[Any]] = field(default_factory=dict)
    # Start and end dates as they will be (from the file or the roster), written together so
    # the "end after start" constraint holds after every statement.
    dates: tuple[dt.date | None, dt.date | None] = (None, None)


@dataclass
class Plan(Problems):
    columns: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    sha256: str = ""

    @property
    def to_create(self) -> list[Line]:
        return [line for line in self.lines if line.is_new]

    @property
    def to_update(self) -> list[Line]:
        return [line for line in self.lines if not line.is_new and line.changes]

    @property
    def unchanged(self) -> int:
        return sum(1 for line in self.lines if not line.is_new and not line.changes)


def _line(number: int, row: dict[str, str], plan: Plan) -> Line | None:
    before = plan.error_count
    values: dict[str, Any] = {}
    email = rules.normalise_email(row["email"])
    if problem := rules.email_problem(email):
        plan.error(number, "email", problem)
    for key, label, limit, required in _TEXT:
        if key in row:
            values[key] = row[key].strip()
            if problem := rules.text_problem(
                values[key], label=label, limit=limit, required=required
            ):
                plan.error(number, key, problem)
    kind = row.get("employment_type", "").strip().lower()
    if kind:  # blank: employee for a new person, unchanged for a known one
        if problem := rules.employment_type_problem(kind):
            plan.error(number, "employment_type", problem)
        values["employment_type"] = kind
    for key in ("start_date", "end_date"):
        if key not in row:
            continue
        text = row[key].strip()
        day = rules.parse_date(text) if text else None
        if not text and key == "start_date":
            plan.error(number, key, "Give the start date (YYYY-MM-DD).")
        elif text and day is None:
            plan.error(number, key, f"{echo(text)} is not a date: write it as YYYY-MM-DD.")
        else:
            values[key] = day
    manager = None
    if "manager_email" in row:
        manager = rules.normalise_email(row["manager_email"])
        if manager and manager == email:
            plan.error(number, "manager_email", "A person cannot be their own manager.")
    if plan.error_count > before:
        return None
    return Line(number, email, values, manager)


def _roster(org: Organization | int) -> dict[str, dict[str, Any]]:
    """The roster by e-mail address, in one query."""
    rows = Person.objects.for_org(org).values("id", "email", "manager_id", "anonymised_at", *FIELDS)
    return {row["email"]: row for row in rows}


def plan_import(org: Organization | int, data: bytes) -> Plan:
    """Validate the file against the roster; nothing is written."""
    plan = Plan(sha256=hashlib.sha256(data).hexdigest())
    spec = Spec(REQUIRED, OPTIONAL, MAX_ROWS, MAX_BYTES, what="the roster")
    table = read_table(data, spec, plan)
    if table is None:
        return plan
    plan.columns = table.names
    seen: dict[str, int] = {}
    for number, row in table.rows:
        line = _line(number, row, plan)
        if line is None:
            continue
        if line.email in seen:
            plan.error(number, "email", f"{line.email} is also on row {seen[line.email]}.")
            continue
        seen[line.email] = number
        plan.lines.append(line)
    _against_roster(plan, _roster(org))
    plan.errors.sort(key=lambda e: e.row)
    if not plan.ok:
        plan.lines = []
    return plan


def _against_roster(plan: Plan, roster: dict[str, dict[str, Any]]) -> None:
    """Match rows to people, check dates and managers with the roster's values, list changes."""
    emails_by_id = {row["id"]: email for email, row in roster.items()}
    chain = {email: emails_by_id.get(row["manager_id"]) for email, row in roster.items()}
    for line in plan.lines:
        if line.manager_email is not None:
            chain[line.email] = line.manager_email or None
        elif line.email not in chain:
            chain[line.email] = None
    for line in plan.lines:
        known = roster.get(line.email)
        merged = {**(known or {}), **line.values}
        if known is not None and known["anonymised_at"] is not None:
            plan.error(line.number, "email", "This person was anonymised: their entry is closed.")
            continue
        line.dates = (merged.get("start_date"), merged.get("end_date"))
        if problem := rules.dates_problem(*line.dates):
            plan.error(line.number, "end_date", problem)
        manager = line.manager_email
        if manager and manager not in chain:
            plan.error(
                line.number,
                "manager_email",
                f"{manager} is neither in the file nor on the roster: add them first.",
            )
        elif manager and rules.cycle_from(chain, line.email):
            plan.error(line.number, "manager_email", f"{manager} reports to this person.")
        if known is not None:
            line.person_id, line.is_new = known["id"], False
            line.changes = {
                key: [known[key], value]
                for key, value in line.values.items()
                if known[key] != value
            }
            if manager is not None and emails_by_id.get(known["manager_id"]) != (manager or None):
                line.changes["manager_email"] = [emails_by_id.get(known["manager_id"]), manager]


def import_apply(*, membership: Any, data: bytes, name: str = "") -> Plan:
    """Plan and apply in one transaction; ``ImportRejected`` (nothing written) on any error."""
    permissions.require(membership, Action.PEOPLE_MANAGE)
    org = membership.organization
    try:
        with transaction.atomic():
            # One import at a time per organization, planned against the roster it changes.
            Organization.objects.select_for_update().filter(pk=org.pk).exists()
            plan = plan_import(org, data)
            if not plan.ok:
                raise ImportRejected(plan)
            created, updated = plan_write(org, plan)
            actor = Actor.for_principal(membership)
            activity_record(
                organization=org,
                actor=actor,
                action="people.import",
                object_type="people.person",
                object_repr=f"Roster import {name}".strip()[:200],
                changes={
                    "file_sha256": [None, plan.sha256],
                    "created": [None, len(created)],
                    "updated": [None, len(updated)],
                    "created_ids": [None, created],
                    "updated_ids": [None, updated],
                },
            )
            # Joiners' and leavers' checklists open or follow moved dates (set-based).
            dated = [
                line.person_id
                for line in plan.lines
                if line.is_new or {"start_date", "end_date"} & set(line.changes)
            ]
            checklists_sync(org, dated, actor=actor)
    except IntegrityError as exc:  # someone added one of these addresses meanwhile
        raise Conflict("The roster changed during the import: preview the file again.") from exc
    return plan


def example_csv() -> str:
    today = timezone.localdate().isoformat()
    return (
        ",".join(COLUMNS)
        + "\n"
        + f"Ada Lovelace,ada@example.com,{today},CTO,Engineering,,employee,\n"
        + f"Alan Turing,alan@example.com,{today},Engineer,Engineering,ada@example.com,contractor,\n"
    )
