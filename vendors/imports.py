"""Importing the vendor inventory from a CSV file: a plan (each row a new vendor or an update,
with the fields it changes, or refused with its reasons) and its application, all or nothing.

The file is read by ``soc2app.csv_import`` (UTF-8 or UTF-16 with a byte-order mark, a header
row, rows numbered as lines, at most ``MAX_ROWS`` and ``MAX_BYTES``). Columns, in any order,
case-insensitive, spaces read as underscores:

    name                                                              required
    service, website, owner, criticality, data_touched, access,
    contract_start, contract_end, subprocessor, notes                 optional

``owner`` is the e-mail of a member who can own things (not an auditor); ``data_touched`` lists
kinds of data (``customer_data``, ``personal_data``, ... or their labels) separated by ``;``;
``subprocessor`` is yes/no; dates are ``YYYY-MM-DD``. A row whose name matches a vendor's
(case-insensitive) updates it; a column left out of the header leaves its field as it is, an
empty cell clears it (an empty criticality or subprocessor leaves it, or takes the default).
The values obey the same rules as the vendor form (``vendors.services.vendor_values_check``),
and a changed criticality moves a next review date the way the form does
(``vendors.services_rules.vendors_follow_criticality``: a date the latest review derived follows
the new criticality, a date set by hand stays).

The plan reads the members and the vendors in two queries; applying it inserts and updates in
a constant number of statements (a batch is ``BATCH`` rows) and writes one activity entry for
the whole import (counts, the file's SHA-256, the ids created, updated and rescheduled).
"""

from __future__ import annotations

import hashlib
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from controls.selectors import owner_choices
from soc2app.csv_import import ImportRejected, Problems, Spec, echo, parse_date, read_table
from soc2app.errors import Conflict, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.context import current_org_id, org_scope
from tenants.models import Membership, Organization
from vendors import services, services_rules
from vendors.models import DataKind, Vendor

REQUIRED = ("name",)
OPTIONAL = (
    "service",
    "website",
    "owner",
    "criticality",
    "data_touched",
    "access",
    "contract_start",
    "contract_end",
    "subprocessor",
    "notes",
)
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 2000
MAX_BYTES = 2 * 1024 * 1024
BATCH = 1000
# Column -> the Vendor field it sets.
FIELD_OF = {
    "name": "name",
    "service": "service",
    "website": "website",
    "owner": "owner_id",
    "criticality": "criticality",
    "data_touched": "data_kinds",
    "access": "access",
    "contract_start": "contract_start",
    "contract_end": "contract_end",
    "subprocessor": "is_subprocessor",
    "notes": "notes",
}
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}
_KINDS = {v: v for v in DataKind.values} | {label.lower(): v for v, label in DataKind.choices}
_url = URLValidator(schemes=["http", "https"])


@dataclass
class Line:
    """One valid row: the fields it sets (only its file's columns)."""

    number: int
    name: str
    values: dict[str, Any]
    vendor_id: int | None = None  # the matched vendor, or the one created
    is_new: bool = True
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [before, after]
    merged: dict[str, Any] = field(default_factory=dict)  # every field as it will be


@dataclass
class Plan(Problems):
    lines: list[Line] = field(default_factory=list)
    sha256: str = ""
    org_id: int = 0
    owners: dict[int, str] = field(default_factory=dict)  # member id -> e-mail, for display
    # Applied: the vendors whose next review date moved with their new criticality.
    rescheduled: list[int] = field(default_factory=list)

    def shown(self, line: Line) -> list[tuple[str, str, str]]:
        """A row's changes as (column, before, after) texts: owners by e-mail."""
        return [
            (
                _COLUMN_OF[key.removesuffix("_id")],
                self._text(key, pair[0]),
                self._text(key, pair[1]),
            )
            for key, pair in line.changes.items()
        ]

    def _text(self, key: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return "—"
        if key == "owner_id":
            return self.owners.get(value, f"member #{value}")
        if key == "is_subprocessor":
            return "yes" if value else "no"
        if key == "data_kinds":
            return "; ".join(value)
        return str(value)

    @property
    def to_create(self) -> list[Line]:
        return [line for line in self.lines if line.is_new]

    @property
    def to_update(self) -> list[Line]:
        return [line for line in self.lines if not line.is_new and line.changes]

    @property
    def unchanged(self) -> int:
        return sum(1 for line in self.lines if not line.is_new and not line.changes)


def _parsed(number: int, row: dict[str, str], owners: dict[str, int], plan: Plan) -> dict:
    """The row's cells as form values (``owner`` a member), problems noted in ``plan``."""
    values: dict[str, Any] = {}
    for column in ("name", "service", "access", "notes"):
        if column in row:
            values[column] = row[column].strip()
    if text := row.get("website", "").strip():
        url = text if "://" in text else f"https://{text}"
        try:
            _url(url)
            values["website"] = url
        except ValidationError:
            plan.error(number, "website", f"{echo(text)} is not a web address.")
    elif "website" in row:
        values["website"] = ""
    if "owner" in row:
        email = row["owner"].strip().lower()
        if email and email not in owners:
            plan.error(
                number, "owner", f"No member of this organization has the e-mail {echo(email)}."
            )
        else:
            values["owner"] = (
                Membership(pk=owners[email], organization_id=plan.org_id) if email else None
            )
    if text := row.get("criticality", "").strip().lower():
        values["criticality"] = text
    if "data_touched" in row:
        cells = [c.strip().lower() for c in row["data_touched"].replace(",", ";").split(";")]
        values["data_kinds"] = [_KINDS.get(c, c) for c in cells if c]
    for column in ("contract_start", "contract_end"):
        if column in row:
            text = row[column].strip()
            values[column] = parse_date(text) if text else None
            if text and values[column] is None:
                plan.error(number, column, f"{echo(text)} is not a date: write it as YYYY-MM-DD.")
    if text := row.get("subprocessor", "").strip().lower():
        if text in _YES | _NO:
            values["is_subprocessor"] = text in _YES
        else:
            plan.error(number, "subprocessor", f"Write yes or no, not {echo(text)}.")
    return values


_COLUMN_OF = {f.removesuffix("_id"): c for c, f in FIELD_OF.items()}


def _line(
    number: int, row: dict[str, str], membership: Any, owners: dict, plan: Plan
) -> Line | None:
    before = plan.error_count
    values = _parsed(number, row, owners, plan)
    try:
        values = services.vendor_values_check(membership, values)
    except ValidationFailed as exc:  # the form's rules: the first broken one
        plan.error(number, _COLUMN_OF.get(exc.field or "", exc.field or ""), exc.message)
    if plan.error_count > before:
        return None
    if "owner" in values:
        owner = values.pop("owner")
        values["owner_id"] = owner.pk if owner is not None else None
    return Line(number, values["name"], values)


def _existing(org: Organization) -> dict[str, list[dict[str, Any]]]:
    """The organization's vendors by lower-case name, in one query."""
    fields = [f for f in FIELD_OF.values()]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in Vendor.objects.for_org(org).values("id", *fields):
        by_name.setdefault(row["name"].lower(), []).append(row)
    return by_name


def plan_import(membership: Any, data: bytes) -> Plan:
    """Check the file against the inventory and the members; nothing is written."""
    permissions.require(membership, services.MANAGE)
    org = membership.organization
    plan = Plan(sha256=hashlib.sha256(data).hexdigest(), org_id=org.pk)
    table = read_table(data, Spec(REQUIRED, OPTIONAL, MAX_ROWS, MAX_BYTES, "the vendor list"), plan)
    if table is None:
        return plan
    plan.owners = dict(owner_choices(org))
    owners = {email.lower(): pk for pk, email in plan.owners.items()}
    seen: dict[str, int] = {}
    for number, row in table.rows:
        line = _line(number, row, membership, owners, plan)
        if line is None:
            continue
        key = line.name.lower()
        if key in seen:
            plan.error(number, "name", f"{echo(line.name)} is also on row {seen[key]}.")
            continue
        seen[key] = number
        plan.lines.append(line)
    _against_inventory(plan, _existing(org))
    plan.errors.sort(key=lambda e: e.row)
    if not plan.ok:
        plan.lines = []
    return plan


def _against_inventory(plan: Plan, existing: dict[str, list[dict[str, Any]]]) -> None:
    """Match rows to vendors, check the contract dates as they will be, list the changes."""
    new = 0
    for line in plan.lines:
        known = existing.get(line.name.lower(), [])
        if len(known) > 1:
            plan.error(
                line.number,
                "name",
                f"Several vendors are named {echo(line.name)}: rename them first.",
            )
            continue
        merged = {**(known[0] if known else {}), **line.values}
        try:
            services.vendor_dates_check(merged.get("contract_start"), merged.get("contract_end"))
        except ValidationFailed as exc:
            plan.error(line.number, "contract_end", exc.message)
        line.merged = {key: merged[key] for key in FIELD_OF.values() if key in merged}
        if known:
            line.vendor_id, line.is_new = known[0]["id"], False
            line.changes = {
                key: [known[0][key], value]
                for key, value in line.values.items()
                if known[0][key] != value
            }
        else:
            new += 1
    total = sum(len(rows) for rows in existing.values()) + new
    if new and total > services.MAX_VENDORS:
        plan.error(
            1,
            "",
            f"An organization has at most {services.MAX_VENDORS} vendors; this file would make {total}.",
        )


def _write(org: Organization, plan: Plan) -> tuple[list[int], list[int]]:
    """Insert the new vendors and update the changed ones, a statement per ``BATCH`` rows."""
    now = timezone.now()
    objs = [
        Vendor(organization=org, created_at=now, updated_at=now, **line.values)
        for line in plan.to_create
    ]
    Vendor.objects.for_org(org).bulk_create(objs, batch_size=BATCH)
    for line, vendor in zip(plan.to_create, objs, strict=True):
        line.vendor_id = vendor.pk
    updates = plan.to_update
    if updates:
        fields = sorted({key for line in updates for key in line.changes})
        changed = [
            Vendor(
                pk=line.vendor_id,
                organization=org,
                updated_at=now,
                **{key: line.merged[key] for key in fields},
            )
            for line in updates
        ]
        Vendor.objects.for_org(org).bulk_update(changed, [*fields, "updated_at"], batch_size=BATCH)
    # As on the form: the change of criticality dated (the digest's news), and a next review
    # date the latest review derived follows the new criticality.
    old = {
        line.vendor_id: line.changes["criticality"][0]
        for line in updates
        if "criticality" in line.changes
    }
    if old:
        Vendor.objects.for_org(org).filter(pk__in=list(old)).update(criticality_changed_at=now)
    plan.rescheduled = services_rules.vendors_follow_criticality(org, old)
    return [line.vendor_id for line in plan.to_create], [line.vendor_id for line in updates]


def import_apply(*, membership: Any, data: bytes, name: str = "") -> Plan:
    """Plan and apply in one transaction; ``ImportRejected`` (nothing written) on any error."""
    permissions.require(membership, services.MANAGE)
    org = membership.organization
    try:
        with transaction.atomic():
            # One import at a time per organization, planned against the inventory it changes.
            Organization.objects.select_for_update().filter(pk=org.pk).exists()
            plan = plan_import(membership, data)
            if not plan.ok:
                raise ImportRejected(plan)
            # Outside a request (a task, the shell) the scope row-level security checks is set here.
            scope = nullcontext() if current_org_id() == org.pk else org_scope(org)
            with scope:
                created, updated = _write(org, plan)
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="vendors.import",
                object_type="vendors.vendor",
                object_repr=f"Vendor import {name}".strip()[:200],
                changes={
                    "file_sha256": [None, plan.sha256],
                    "created": [None, len(created)],
                    "updated": [None, len(updated)],
                    "created_ids": [None, created],
                    "updated_ids": [None, updated],
                    **({"rescheduled_ids": [None, plan.rescheduled]} if plan.rescheduled else {}),
                },
            )
    except IntegrityError as exc:  # someone added a vendor of one of these names meanwhile
        raise Conflict(
            "The vendor list changed during the import: preview the file again."
        ) from exc
    return plan


def template_csv() -> str:
    """The header and two example rows (no cell starts like a formula)."""
    today = timezone.localdate().isoformat()
    return (
        ",".join(COLUMNS)
        + "\n"
        + f"Acme Cloud,Hosting,https://acme.example,,high,customer_data;personal_data,"
        f"Production infrastructure,{today},,yes,\n"
        + "Paperclip Ltd,Office supplies,,,low,,,,,no,Renewed yearly\n"
    )
