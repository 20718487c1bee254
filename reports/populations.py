"""Populations of a Type 2 audit: upload (CSV), push (API) or build from evidence versions.
Writes only; reads are in ``reports.selectors_sampling``.

Compliance managers, admins, owners and their API keys supply populations (``audit.manage``);
auditors read them. A population is validated whole before anything is written (nothing
partial is stored), written in one transaction with its activity entry, and never edited: a
correction is the next version. Its SHA-256 is that of its canonical form
(``reports.sampling``), which is what its export downloads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from contextlib import nullcontext

from django.db import connection, transaction
from django.db.models import Max

from controls.models import Audit, Control
from evidence.models import EvidenceVersion
from evidence.selectors import deliverable_versions
from reports import sampling
from reports.models import Population, PopulationItem, PopulationSource
from reports.pbc import require_audit_access
from reports.population_sources import source_get
from reports.sampling import Parsed, Row
from reports.selectors import audit_scope_controls
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.context import current_org_id, org_scope
from tenants.permissions import Action

BATCH = 5000  # rows per INSERT (other databases)
BATCH_SQL = 25_000  # rows per INSERT ... unnest (PostgreSQL): 100,000 rows in 4 statements


class PopulationRejected(ValidationFailed):
    """A population that breaks the rules; ``parsed`` holds every message, each naming a row."""

    def __init__(self, parsed: Parsed) -> None:
        super().__init__(
            f"The population was not stored: {parsed.summary()}", field="file", code="invalid"
        )
        self.parsed = parsed


def _check_target(membership: object, audit: Audit, control: Control) -> None:
    permissions.require(membership, Action.AUDIT_MANAGE)
    require_audit_access(membership, audit)
    if not audit.is_type2:
        raise ValidationFailed("Populations belong to Type 2 audits (an observation window).")
    if control.organization_id != audit.organization_id or (
        not audit_scope_controls(audit).filter(pk=control.pk).exists()
    ):
        raise ValidationFailed("Choose a control in this audit's scope.", field="control")


def window(audit: Audit) -> tuple[dt.date, dt.date]:
    return (audit.window_start, audit.window_end)


def population_store(
    *,
    membership: object,
    audit: Audit,
    control: Control,
    parsed: Parsed,
    source: str,
    source_name: str = "",
) -> Population:
    """Store a validated population as the control's next version (one transaction)."""
    _check_target(membership, audit, control)
    if not parsed.ok:
        raise PopulationRejected(parsed)
    rows = parsed.rows
    digest = sampling.canonical_sha256(rows)
    actor = Actor.for_principal(membership)
    org = audit.organization_id
    with transaction.atomic():
        # Serializes two uploads for the same control: each gets its own version number.
        Audit.objects.for_org(org).select_for_update().filter(pk=audit.pk).get()
        last = (
            Population.objects.for_org(org)
            .filter(audit=audit, control=control)
            .aggregate(last=Max("version"))["last"]
        )
        population = Population.objects.create(
            organization_id=org,
            audit=audit,
            control=control,
            version=(last or 0) + 1,
            source=source,
            source_name=source_name[:200],
            sha256=digest,
            row_count=len(rows),
            supplied_by=getattr(membership, "user", None),
            supplied_by_label=actor.label[:200],
        )
        _insert_items(org, population.pk, rows)
        activity_record(
            organization=audit.organization,
            actor=actor,
            action="population.create",
            target=population,
            object_repr=f"{control.code} population v{population.version}",
            changes={
                "source": [None, source],
                "rows": [None, len(rows)],
                "sha256": [None, digest],
            },
        )
    return population


def _insert_items(org: int, population_id: int, rows: list[Row]) -> None:
    """The items, in a few statements. On PostgreSQL each batch is one ``INSERT ... SELECT
    FROM unnest(arrays)``: three parameters instead of five per row, no model instances and no
    ``RETURNING``, which is what keeps 100,000 rows within seconds (row-level security checks
    each row against the current organization all the same)."""
    if connection.vendor != "postgresql":
        PopulationItem.objects.bulk_create(
            (
                PopulationItem(
                    organization_id=org,
                    population_id=population_id,
                    item_id=row.item_id,
                    date=row.date,
                    description=row.description,
                )
                for row in rows
            ),
            batch_size=BATCH,
        )
        return
    table = connection.ops.quote_name(PopulationItem._meta.db_table)
    sql = (
        f"INSERT INTO {table} (organization_id, population_id, item_id, date, description) "  # noqa: S608 (a model's table name)
        "SELECT %s, %s, t.i, t.d, t.x FROM unnest(%s::text[], %s::date[], %s::text[]) "
        "AS t(i, d, x)"
    )
    scope = nullcontext() if current_org_id() == org else org_scope(org)
    with scope, connection.cursor() as cursor:
        for first in range(0, len(rows), BATCH_SQL):
            batch = rows[first : first + BATCH_SQL]
            cursor.execute(
                sql,
                [
                    org,
                    population_id,
                    [r.item_id for r in batch],
                    [r.date.isoformat() for r in batch],
                    [r.description for r in batch],
                ],
            )


def population_upload_csv(
    *, membership: object, audit: Audit, control: Control, data: bytes, name: str = ""
) -> Population:
    _check_target(membership, audit, control)  # before reading a large file
    parsed = sampling.parse_csv(data, window=window(audit))
    return population_store(
        membership=membership,
        audit=audit,
        control=control,
        parsed=parsed,
        source=PopulationSource.CSV,
        source_name=name,
    )


def population_push(
    *, membership: object, audit: Audit, control: Control, items: Iterable[Mapping]
) -> Population:
    """Items pushed through the API, as objects ``{"id", "date", "description"}``; item ``n``
    of the list is reported as row ``n + 1`` (as if under a CSV header)."""
    _check_target(membership, audit, control)
    raw = (
        (
            number,
            [str(item.get(key, "") or "") for key in sampling.HEADER]
            if isinstance(item, Mapping)
            else [],
        )
        for number, item in enumerate(items, start=2)
    )
    parsed = sampling.validate_rows(
        ((n, cells or ["", "", ""]) for n, cells in raw), window=window(audit)
    )
    return population_store(
        membership=membership,
        audit=audit,
        control=control,
        parsed=parsed,
        source=PopulationSource.API,
    )


def population_from_evidence(*, membership: object, audit: Audit, control: Control) -> Population:
    """One item per evidence version of the control whose effective end falls in the window:
    id ``EV-<version id>``, the effective end as the date, the item's title as description."""
    _check_target(membership, audit, control)
    start, end = window(audit)
    # Held and quarantined files count as evidence of nothing (``deliverable_versions``).
    versions = (
        deliverable_versions(EvidenceVersion.objects.for_org(audit.organization_id))
        .filter(
            item__control=control,
            item__removed_at__isnull=True,
            effective_end__gte=start,
            effective_end__lte=end,
        )
        .select_related("item")
        .order_by("pk")
    )
    rows = [
        Row(f"EV-{v.pk}", v.effective_end, sampling.neutralise(f"{v.item.title} v{v.number}")[:500])
        for v in versions
    ]
    parsed = Parsed(rows=rows)
    if not rows:
        parsed.error("The control has no evidence version ending inside the window.")
    return population_store(
        membership=membership,
        audit=audit,
        control=control,
        parsed=parsed,
        source=PopulationSource.EVIDENCE,
    )


def population_from_source(
    *, membership: object, audit: Audit, control: Control, key: str
) -> Population:
    """A ready-made population another app offers (``reports.population_sources``), e.g. the
    roster's joiners or leavers in the window."""
    _check_target(membership, audit, control)
    spec = source_get(key)
    if spec is None:
        raise ValidationFailed("No such ready-made population.", field="source")
    start, end = window(audit)
    rows = sorted(spec.build(audit.organization_id, start, end), key=lambda r: r.item_id)
    parsed = Parsed(rows=rows)
    if not rows:
        parsed.error(spec.empty_message)
    return population_store(
        membership=membership,
        audit=audit,
        control=control,
        parsed=parsed,
        source=PopulationSource.BUILT,
        source_name=spec.label,
    )
