"""Parse and load the control library files (``controls/data/*.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controls.models import ControlLibrary, ControlTemplate, ControlType, Frequency
from criteria.datafile import CatalogError, Reader, read_yaml
from criteria.loader import LoadReport, update_fields
from criteria.models import Criterion, Framework

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class TemplateSpec:
    code: str
    title: str
    description: str
    control_type: str
    frequency: str
    evidence_guidance: str
    criteria: tuple[str, ...]
    position: int
    reader: Reader


@dataclass
class LibrarySpec:
    key: str
    name: str
    version: str
    framework: str
    source_file: str
    templates: list[TemplateSpec]


def parse_library(path: Path, label: str) -> LibrarySpec:
    doc = read_yaml(path, label=label).mapping(["library", "templates"])
    head = doc.child("library").mapping(["key", "name", "version", "framework"])
    templates: list[TemplateSpec] = []
    codes: set[str] = set()
    for position, item in enumerate(doc.items("templates"), start=1):
        item.mapping(
            ["code", "title", "description", "type", "frequency", "evidence_guidance", "criteria"]
        )
        code = item.text("code", max_length=20)
        if code in codes:
            raise item.error(f"template {code} appears twice", "code")
        codes.add(code)
        templates.append(
            TemplateSpec(
                code=code,
                title=item.text("title", max_length=200),
                description=item.text("description", max_length=4000),
                control_type=item.choice("type", ControlType.values),
                frequency=item.choice("frequency", Frequency.values),
                evidence_guidance=item.text("evidence_guidance", max_length=4000),
                criteria=tuple(dict.fromkeys(item.strings("criteria", max_length=12))),
                position=position,
                reader=item,
            )
        )
    return LibrarySpec(
        key=head.text("key", max_length=80),
        name=head.text("name", max_length=200),
        version=head.text("version", max_length=40),
        framework=head.text("framework", max_length=80),
        source_file=label,
        templates=templates,
    )


def load_library(spec: LibrarySpec, report: LoadReport) -> ControlLibrary:
    framework = Framework.objects.filter(key=spec.framework).first()
    if framework is None:
        raise CatalogError(
            spec.source_file, f"framework {spec.framework!r} is not loaded", key="library.framework"
        )
    criteria = {c.ref: c for c in Criterion.objects.filter(framework=framework)}
    for t in spec.templates:
        unknown = [ref for ref in t.criteria if ref not in criteria]
        if unknown:
            raise t.reader.error(
                f"{', '.join(unknown)} is not a criterion of {spec.framework}", "criteria"
            )

    values = {
        "name": spec.name,
        "version": spec.version,
        "framework": framework,
        "source_file": spec.source_file,
    }
    library = ControlLibrary.objects.filter(key=spec.key).first()
    if library is None:
        library = ControlLibrary.objects.create(key=spec.key, **values)
        report.add("control library", "created")
    elif update_fields(library, values):
        report.add("control library", "updated")

    existing = {
        t.code: t
        for t in ControlTemplate.objects.filter(library=library).prefetch_related("criteria")
    }
    removed = [t.pk for code, t in existing.items() if code not in {s.code for s in spec.templates}]
    ControlTemplate.objects.filter(pk__in=removed).delete()
    report.add("control template", "deleted", len(removed))
    for t in spec.templates:
        values = {
            "title": t.title,
            "description": t.description,
            "control_type": t.control_type,
            "frequency": t.frequency,
            "evidence_guidance": t.evidence_guidance,
            "position": t.position,
        }
        template = existing.get(t.code)
        if template is None:
            template = ControlTemplate.objects.create(library=library, code=t.code, **values)
            report.add("control template", "created")
            current: set[int] = set()
        else:
            if update_fields(template, values):
                report.add("control template", "updated")
            current = {c.pk for c in template.criteria.all()}
        wanted = {criteria[ref].pk for ref in t.criteria}
        if wanted != current:
            template.criteria.set(wanted)
            report.add("template mapping", "updated" if current else "created")
    return library


@dataclass(frozen=True)
class RuleSpec:
    frequency: str
    period_unit: str
    period_length: int
    validity_days: int
    sample_min: int
    sample_max: int
    note: str


def parse_frequency_rules(path: Path, label: str) -> list[RuleSpec]:
    from controls.models import PeriodUnit

    # The operation and on-event sample sections are read by controls.operation.
    doc = read_yaml(path, label=label).mapping(["rules"], ["operation", "on_event_sample"])
    rules: list[RuleSpec] = []
    for item in doc.items("rules"):
        item.mapping(["frequency", "period", "validity_days", "sample"], ["note"])
        period = item.child("period").mapping(["unit"], ["length"])
        sample = item.child("sample").mapping(["min", "max"])
        rule = RuleSpec(
            frequency=item.choice("frequency", Frequency.values),
            period_unit=period.choice("unit", PeriodUnit.values),
            period_length=period.integer("length", minimum=1, maximum=366, required=False) or 1,
            validity_days=item.integer("validity_days", minimum=1, maximum=3660),
            sample_min=sample.integer("min", minimum=0, maximum=1000),
            sample_max=sample.integer("max", minimum=0, maximum=1000),
            note=item.text("note", max_length=300, required=False),
        )
        if rule.sample_min > rule.sample_max:
            raise sample.error("min must not be larger than max")
        if any(r.frequency == rule.frequency for r in rules):
            raise item.error(f"frequency {rule.frequency} appears twice", "frequency")
        rules.append(rule)
    missing = sorted(set(Frequency.values) - {r.frequency for r in rules})
    if missing:
        raise doc.error(f"no rule for frequency {', '.join(missing)}", "rules")
    return rules


def load_frequency_rules(rules: list[RuleSpec], report: LoadReport) -> None:
    from controls.models import FrequencyRule

    existing = {r.frequency: r for r in FrequencyRule.objects.all()}
    for rule in rules:
        values = {
            "period_unit": rule.period_unit,
            "period_length": rule.period_length,
            "validity_days": rule.validity_days,
            "sample_min": rule.sample_min,
            "sample_max": rule.sample_max,
            "note": rule.note,
        }
        found = existing.get(rule.frequency)
        if found is None:
            FrequencyRule.objects.create(frequency=rule.frequency, **values)
            report.add("frequency rule", "created")
        elif update_fields(found, values):
            report.add("frequency rule", "updated")
