"""Reads of populations, samples and test results (writes: ``reports.populations`` and
``reports.samples``). Lookups are inside the audit and 404 for missing and forbidden alike.

``sample_exceptions(audit)`` is the hook for the readiness engine's exceptions list: every
exception found in sample testing, with its control, date, item, note and tester.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404

from controls.models import Audit
from reports import sampling
from reports.models import Population, PopulationItem, Sample, SampleItem, SampleResult


def _pk(value: object, what: str) -> int:
    text = str(value)
    pk = int(text) if text.isascii() and text.isdigit() and len(text) < 20 else 0
    if not 0 < pk < 2**63:
        raise Http404(f"No such {what}.")
    return pk


def populations_for_audit(audit: Audit, control_id: int | None = None) -> QuerySet[Population]:
    """An audit's populations by control code, newest version first, with their sample count
    and the size of the latest sample (one query)."""
    org = audit.organization_id
    latest = Sample.objects.for_org(org).filter(population=OuterRef("pk")).order_by("-number")
    rows = (
        Population.objects.for_org(org)
        .filter(audit=audit)
        .select_related("control")
        .annotate(
            sample_count=Count("samples", distinct=True),
            latest_sample_id=Subquery(latest.values("pk")[:1]),
        )
        .order_by("control__code", "-version")
    )
    return rows.filter(control_id=control_id) if control_id else rows


def population_get(audit: Audit, pk: object) -> Population:
    found = (
        Population.objects.for_org(audit.organization_id)
        .select_related("control", "audit__organization")
        .filter(audit=audit, pk=_pk(pk, "population"))
        .first()
    )
    if found is None:
        raise Http404("No such population.")
    return found


def population_items(population: Population) -> QuerySet[PopulationItem]:
    return (
        PopulationItem.objects.for_org(population.organization_id)
        .filter(population=population)
        .order_by("item_id")
    )


def population_rows(population: Population) -> list[sampling.Row]:
    values = population_items(population).values_list("item_id", "date", "description")
    return [sampling.Row(i, d, text) for i, d, text in values.iterator(chunk_size=5000)]


def population_export(population: Population) -> Iterator[bytes]:
    """The canonical CSV (its SHA-256 is the population's), line by line."""
    for line in sampling.canonical_lines(population_rows(population)):
        yield line.encode("utf-8")


def samples_for_population(population: Population) -> QuerySet[Sample]:
    return (
        Sample.objects.for_org(population.organization_id)
        .filter(population=population)
        .order_by("-number")
    )


def sample_get(audit: Audit, pk: object) -> Sample:
    found = (
        Sample.objects.for_org(audit.organization_id)
        .select_related("population__control", "audit__organization", "control")
        .filter(audit=audit, pk=_pk(pk, "sample"))
        .first()
    )
    if found is None:
        raise Http404("No such sample.")
    return found


def sample_is_current(sample: Sample) -> bool:
    latest = samples_for_population(sample.population).values_list("pk", flat=True).first()
    return latest == sample.pk


def sample_items(sample: Sample) -> QuerySet[SampleItem]:
    return (
        SampleItem.objects.for_org(sample.organization_id)
        .filter(sample=sample)
        .select_related("population_item", "request")
        .order_by("rank")
    )


def sample_item_get(sample: Sample, pk: object) -> SampleItem:
    found = (
        sample_items(sample)
        .select_related("sample__audit__organization", "sample__control")
        .filter(pk=_pk(pk, "sample item"))
        .first()
    )
    if found is None:
        raise Http404("No such sample item.")
    return found


@dataclass(frozen=True)
class SampleException:
    """An exception found in sample testing, for the audit's exceptions list."""

    control_id: int
    control_code: str
    control_title: str
    date: dt.date  # the occurrence's date (the period it belongs to follows from it)
    item_id: str
    note: str
    tested_by: str
    tested_at: dt.datetime
    sample_id: int
    sample_item_id: int


def sample_exceptions(audit: Audit) -> list[SampleException]:
    """Every item marked *exception* in the audit's samples, by control code and date (one
    query). Items of a sample replaced by a later draw are included: the deviation was seen."""
    rows = (
        SampleItem.objects.for_org(audit.organization_id)
        .filter(sample__audit=audit, result=SampleResult.EXCEPTION)
        .select_related("population_item", "sample__control")
        .order_by("sample__control__code", "population_item__date", "pk")
    )
    return [
        SampleException(
            control_id=row.sample.control_id,
            control_code=row.sample.control.code,
            control_title=row.sample.control.title,
            date=row.population_item.date,
            item_id=row.population_item.item_id,
            note=row.note,
            tested_by=row.tested_by_label,
            tested_at=row.tested_at,
            sample_id=row.sample_id,
            sample_item_id=row.pk,
        )
        for row in rows
    ]


def controls_with_sample_exceptions(audit: Audit) -> set[int]:
    """Ids of the audit's controls with at least one exception in sample testing (their
    readiness: operating with exceptions)."""
    return set(
        SampleItem.objects.for_org(audit.organization_id)
        .filter(sample__audit=audit, result=SampleResult.EXCEPTION)
        .values_list("sample__control_id", flat=True)
        .distinct()
    )


def export_filename(population: Population) -> str:
    """The export's file name; only safe characters from the control's code reach the
    ``Content-Disposition`` header."""
    code = re.sub(r"[^A-Za-z0-9._-]+", "-", population.control.code).strip("-") or "control"
    return f"population-{code[:60]}-v{population.version}.csv"
