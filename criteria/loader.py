"""Writes parsed catalog files into the database, changing only what differs.

Idempotent by construction: every row is compared with its file value and written only when
it differs, so a second run reports no change. Criteria, categories and series are never
deleted (tenant controls map to them): a file that drops one is refused, and a new framework
version goes into a new file with its own key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import models

from criteria.datafile import CatalogError
from criteria.models import (
    Category,
    Criterion,
    CrosswalkMapping,
    ExternalFramework,
    ExternalReference,
    Framework,
    PointOfFocus,
    Series,
)
from criteria.specs import CrosswalkSpec, FrameworkSpec, check_crosswalk_refs

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass
class LoadReport:
    counts: Counter = field(default_factory=Counter)

    def add(self, kind: str, action: str, n: int = 1) -> None:
        if n:
            self.counts[(kind, action)] += n

    @property
    def changed(self) -> bool:
        return bool(self.counts)

    def lines(self) -> list[str]:
        return [f"{kind}: {n} {action}" for (kind, action), n in sorted(self.counts.items())]


def update_fields(obj: models.Model, values: dict) -> bool:
    """Set ``values`` on ``obj`` and save the fields that changed; True if any did."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save(update_fields=changed)
    return bool(changed)


def _upsert(
    existing: dict, key: object, values: dict, create: models.Model, kind: str, report: LoadReport
) -> models.Model:
    obj = existing.get(key)
    if obj is None:
        obj = create
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()
        report.add(kind, "created")
    elif update_fields(obj, values):
        report.add(kind, "updated")
    return obj


def _refuse_removed(
    spec_file: str, kind: str, existing: Iterable[str], wanted: Iterable[str]
) -> None:
    removed = sorted(set(existing) - set(wanted))
    if removed:
        raise CatalogError(
            spec_file,
            f"{kind} {', '.join(removed)} would be removed; a loaded framework version keeps "
            "all its items (publish a new version under a new key instead)",
        )


def load_framework(spec: FrameworkSpec, report: LoadReport) -> Framework:
    framework = Framework.objects.filter(key=spec.key).first()
    values = {
        "name": spec.name,
        "version": spec.version,
        "description": spec.description,
        "source_file": spec.source_file,
    }
    framework = _upsert(
        {spec.key: framework} if framework else {},
        spec.key,
        values,
        Framework(key=spec.key),
        "framework",
        report,
    )

    categories = {c.key: c for c in Category.objects.filter(framework=framework)}
    _refuse_removed(spec.source_file, "category", categories, (c.key for c in spec.categories))
    for c in spec.categories:
        values = {
            "name": c.name,
            "description": c.description,
            "always_in_scope": c.always_in_scope,
            "position": c.position,
        }
        categories[c.key] = _upsert(
            categories, c.key, values, Category(framework=framework, key=c.key), "category", report
        )

    series = {s.key: s for s in Series.objects.filter(framework=framework)}
    _refuse_removed(spec.source_file, "series", series, (s.key for s in spec.series))
    for s in spec.series:
        values = {"name": s.name, "category": categories[s.category_key], "position": s.position}
        series[s.key] = _upsert(
            series, s.key, values, Series(framework=framework, key=s.key), "series", report
        )

    criteria = {c.ref: c for c in Criterion.objects.filter(framework=framework)}
    _refuse_removed(spec.source_file, "criterion", criteria, (c.ref for c in spec.criteria))
    for c in spec.criteria:
        values = {
            "title": c.title,
            "description": c.description,
            "coso_principle": c.coso_principle,
            "category": categories[c.category_key],
            "series": series[c.series_key],
            "position": c.position,
        }
        criteria[c.ref] = _upsert(
            criteria, c.ref, values, Criterion(framework=framework, ref=c.ref), "criterion", report
        )

    _sync_points_of_focus(spec, criteria, report)
    return framework


def _sync_points_of_focus(
    spec: FrameworkSpec, criteria: dict[str, Criterion], report: LoadReport
) -> None:
    existing = {
        (p.criterion_id, p.position): p
        for p in PointOfFocus.objects.filter(
            criterion__framework=criteria[spec.criteria[0].ref].framework_id
        )
    }
    wanted: set[tuple[int, int]] = set()
    new: list[PointOfFocus] = []
    for c in spec.criteria:
        criterion = criteria[c.ref]
        for position, text in enumerate(c.points_of_focus, start=1):
            key = (criterion.pk, position)
            wanted.add(key)
            if key not in existing:
                new.append(PointOfFocus(criterion=criterion, position=position, text=text))
            elif update_fields(existing[key], {"text": text}):
                report.add("point of focus", "updated")
    PointOfFocus.objects.bulk_create(new)
    report.add("point of focus", "created", len(new))
    stale = [p.pk for key, p in existing.items() if key not in wanted]
    PointOfFocus.objects.filter(pk__in=stale).delete()
    report.add("point of focus", "deleted", len(stale))


def load_crosswalk(spec: CrosswalkSpec, report: LoadReport) -> ExternalFramework:
    criteria = {c.ref: c for c in Criterion.objects.filter(framework__key=spec.criteria_framework)}
    if not criteria:
        raise CatalogError(
            spec.source_file, f"criteria_framework {spec.criteria_framework!r} is not loaded"
        )
    check_crosswalk_refs(spec, set(criteria))

    found = ExternalFramework.objects.filter(key=spec.key).first()
    external = _upsert(
        {spec.key: found} if found else {},
        spec.key,
        {"name": spec.name, "version": spec.version},
        ExternalFramework(key=spec.key),
        "external framework",
        report,
    )
    references = {r.ref_id: r for r in ExternalReference.objects.filter(framework=external)}
    stale = [r.pk for ref_id, r in references.items() if ref_id not in spec.references]
    ExternalReference.objects.filter(pk__in=stale).delete()
    report.add("external reference", "deleted", len(stale))
    new = []
    for ref_id, title in spec.references.items():
        if ref_id not in references:
            new.append(ExternalReference(framework=external, ref_id=ref_id, title=title))
        elif update_fields(references[ref_id], {"title": title}):
            report.add("external reference", "updated")
    for ref in ExternalReference.objects.bulk_create(new):
        references[ref.ref_id] = ref
    report.add("external reference", "created", len(new))
    if any(r.pk is None for r in new):  # backends that do not return ids from bulk_create
        references = {r.ref_id: r for r in ExternalReference.objects.filter(framework=external)}

    existing = set(
        CrosswalkMapping.objects.filter(reference__framework=external).values_list(
            "criterion_id", "reference_id"
        )
    )
    wanted = {
        (criteria[ref].pk, references[ref_id].pk)
        for ref, ids in spec.mappings.items()
        for ref_id in ids
    }
    CrosswalkMapping.objects.bulk_create(
        [CrosswalkMapping(criterion_id=c, reference_id=r) for c, r in sorted(wanted - existing)]
    )
    report.add("crosswalk mapping", "created", len(wanted - existing))
    for c, r in existing - wanted:
        CrosswalkMapping.objects.filter(criterion_id=c, reference_id=r).delete()
    report.add("crosswalk mapping", "deleted", len(existing - wanted))
    return external
