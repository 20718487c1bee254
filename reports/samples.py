"""Samples of a Type 2 population: draw (seeded or by hand) and record test results. Writes
only; reads are in ``reports.selectors_sampling``.

Auditors (on the audits granted to them) and compliance managers draw (``sample.draw``); only
auditors record results (``sample.test``). Drawing freezes the population; a later draw from
the same population needs a reason and replaces the earlier sample, which stays as it was.
Each drawn item becomes a request for information (PBC) that the organization answers with
evidence. Every draw and result (an exception with its note) is in the activity log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from reports import sampling
from reports.models import (
    InfoRequest,
    Population,
    PopulationItem,
    Sample,
    SampleItem,
    SampleMethod,
    SampleResult,
)
from reports.pbc import MAX_TEXT, next_request_number, require_audit_access
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.permissions import Action

DEFAULT_DUE_DAYS = 14
MAX_SAMPLE = 500  # each item becomes a request for information


def _reason(value: str, *, field: str, what: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"Keep {what} under {MAX_TEXT} characters.", field=field)
    return value


def _chosen(population: Population, method: str, size: int, seed: str, item_ids: Sequence[str]):
    """The population items of the draw, in draw order."""
    org = population.organization_id
    rows = PopulationItem.objects.for_org(org).filter(population=population)
    if method == SampleMethod.SEEDED:
        by_id = dict(rows.values_list("item_id", "pk"))
        return [by_id[i] for i in sampling.seeded_sample(seed, by_id, size)]
    wanted = [str(i).strip() for i in item_ids]
    if len(set(wanted)) != len(wanted):
        raise ValidationFailed("Choose each item once.", field="item_ids")
    found = dict(rows.filter(item_id__in=wanted).values_list("item_id", "pk"))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(
            f"Not in this population: {', '.join(m[:40] for m in missing[:5])}.",
            field="item_ids",
        )
    return [found[i] for i in wanted]


def sample_draw(
    *,
    membership: object,
    population: Population,
    size: int | None = None,
    size_reason: str = "",
    method: str = SampleMethod.SEEDED,
    seed: str = "",
    item_ids: Sequence[str] = (),
    redraw_reason: str = "",
    due_date: dt.date | None = None,
) -> Sample:
    permissions.require(membership, Action.SAMPLE_DRAW)
    audit = population.audit
    require_audit_access(membership, audit)
    if method not in SampleMethod.values:
        raise ValidationFailed("Choose the method: seeded or manual.", field="method")
    suggested = sampling.suggested_size(population.row_count)
    if method == SampleMethod.MANUAL:
        if not item_ids:
            raise ValidationFailed("Choose the items of the sample.", field="item_ids")
        size = len(item_ids)
        seed = ""
    size = suggested if size is None else size
    if size < 1:
        raise ValidationFailed("A sample holds at least one item.", field="size")
    if size > MAX_SAMPLE:
        raise ValidationFailed(
            f"A sample holds at most {MAX_SAMPLE} items (each becomes a request for evidence).",
            field="size",
        )
    if size > population.row_count:
        raise ValidationFailed(
            f"The sample ({size}) cannot be larger than the population "
            f"({population.row_count} items).",
            field="size",
        )
    size_reason = _reason(size_reason, field="size_reason", what="the reason")
    if size != suggested and not size_reason:
        raise ValidationFailed(
            f"The suggested size is {suggested}: say why this sample has {size} items.",
            field="size_reason",
        )
    redraw_reason = _reason(redraw_reason, field="redraw_reason", what="the reason")
    if method == SampleMethod.SEEDED:
        seed = (seed or "").strip() or sampling.new_seed()
        if not sampling.SEED_PATTERN.fullmatch(seed):
            raise ValidationFailed(
                "A seed is 8 to 64 letters, digits, - or _ (leave it empty for a random one).",
                field="seed",
            )
    due_date = due_date or timezone.localdate() + dt.timedelta(days=DEFAULT_DUE_DAYS)
    if due_date < timezone.localdate():
        raise ValidationFailed("The due date cannot be in the past.", field="due_date")
    chosen = _chosen(population, method, size, seed, item_ids)
    actor = Actor.for_principal(membership)
    org = population.organization_id
    now = timezone.now()
    with transaction.atomic():
        # Two draws at once on one population: the second waits, then sees the first.
        locked = Population.objects.for_org(org).select_for_update().filter(pk=population.pk).get()
        previous = Sample.objects.for_org(org).filter(population=population).count()
        if previous and not redraw_reason:
            raise ValidationFailed(
                "This population was sampled already (it is frozen): say why you draw again.",
                field="redraw_reason",
            )
        if locked.frozen_at is None:
            locked.frozen_at = now
            locked.save(update_fields=["frozen_at"])
            population.frozen_at = now
        sample = Sample.objects.create(
            organization_id=org,
            population=population,
            audit_id=population.audit_id,
            control_id=population.control_id,
            number=previous + 1,
            size=size,
            suggested_size=suggested,
            size_reason=size_reason,
            redraw_reason=redraw_reason,
            method=method,
            seed=seed,
            drawn_by=getattr(membership, "user", None),
            drawn_by_label=actor.label[:200],
            drawn_at=now,
        )
        items = _items_with_requests(membership, sample, chosen, due_date, actor)
        activity_record(
            organization=audit.organization,
            actor=actor,
            action="sample.draw",
            target=sample,
            object_repr=f"{population.control.code} sample {sample.number}",
            changes={
                "population": [None, f"v{population.version} {population.sha256}"],
                "method": [None, method],
                "seed": [None, seed],
                "size": [None, size],
                "suggested_size": [None, suggested],
                "size_reason": [None, size_reason],
                "redraw_reason": [None, redraw_reason],
                # Not "items": templates read `changes.items` as the dict method.
                "drawn_items": [None, [i.population_item.item_id for i in items]],
            },
        )
    return sample


def _items_with_requests(
    membership: object,
    sample: Sample,
    chosen: list[int],
    due_date: dt.date,
    actor: Actor,
) -> list[SampleItem]:
    """One request for information per drawn item, numbered after the audit's last one."""
    org = sample.organization_id
    rows = PopulationItem.objects.for_org(org).in_bulk(chosen)
    control = sample.population.control
    first = next_request_number(sample.population.audit)
    requests = InfoRequest.objects.bulk_create(
        [
            InfoRequest(
                organization_id=org,
                audit_id=sample.audit_id,
                number=first + rank,
                control=control,
                title=f"{control.code} sample {sample.number}: {rows[pk].item_id}"[:200],
                details=(
                    f"Evidence that the control operated for occurrence {rows[pk].item_id} "
                    f"of {rows[pk].date}: {rows[pk].description}"
                ),
                due_date=due_date,
                raised_by=membership if getattr(membership, "user", None) else None,
                raised_by_label=actor.label[:200],
            )
            for rank, pk in enumerate(chosen)
        ]
    )
    return SampleItem.objects.bulk_create(
        [
            SampleItem(
                organization_id=org,
                sample=sample,
                population_item=rows[pk],
                rank=rank + 1,
                request=request,
            )
            for rank, (pk, request) in enumerate(zip(chosen, requests, strict=True))
        ]
    )


def sample_item_test(
    *, membership: object, item: SampleItem, result: str, note: str = ""
) -> SampleItem:
    """The auditor's result for one item: no exception, or an exception with a note."""
    permissions.require(membership, Action.SAMPLE_TEST)
    sample = item.sample
    require_audit_access(membership, sample.audit)
    if result not in (SampleResult.NO_EXCEPTION, SampleResult.EXCEPTION):
        raise ValidationFailed("Mark the item: no_exception or exception.", field="result")
    note = _reason(note, field="note", what="the note")
    if result == SampleResult.EXCEPTION and not note:
        raise ValidationFailed("Describe the exception in the note.", field="note")
    org = item.organization_id
    latest = (
        Sample.objects.for_org(org)
        .filter(population_id=sample.population_id)
        .order_by("-number")
        .values_list("pk", flat=True)
        .first()
    )
    if latest != sample.pk:
        raise ValidationFailed("This sample was replaced by a later draw: test that one.")
    actor = Actor.for_principal(membership)
    before = item.result
    with transaction.atomic():
        item.result = result
        item.note = note
        item.tested_by = getattr(membership, "user", None)
        item.tested_by_label = actor.label[:200]
        item.tested_at = timezone.now()
        item.save(update_fields=["result", "note", "tested_by", "tested_by_label", "tested_at"])
        activity_record(
            organization=sample.audit.organization,
            actor=actor,
            action="sample.exception" if result == SampleResult.EXCEPTION else "sample.test",
            target=item,
            object_repr=(
                f"{sample.control.code} sample {sample.number}: {item.population_item.item_id}"
            )[:200],
            changes={"result": [before, result], "note": [None, note]},
        )
    return item
