"""Validated, in-memory form of the catalog data files (no database access here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from criteria.datafile import CatalogError, Reader, read_yaml


@dataclass(frozen=True)
class CategorySpec:
    key: str
    name: str
    description: str
    always_in_scope: bool
    position: int


@dataclass(frozen=True)
class SeriesSpec:
    key: str
    name: str
    category_key: str
    position: int


@dataclass(frozen=True)
class CriterionSpec:
    ref: str
    title: str
    description: str
    coso_principle: int | None
    points_of_focus: tuple[str, ...]
    category_key: str
    series_key: str
    position: int


@dataclass
class FrameworkSpec:
    key: str
    name: str
    version: str
    description: str
    source_file: str
    categories: list[CategorySpec] = field(default_factory=list)
    series: list[SeriesSpec] = field(default_factory=list)
    criteria: list[CriterionSpec] = field(default_factory=list)


@dataclass
class CrosswalkSpec:
    key: str
    name: str
    version: str
    criteria_framework: str
    source_file: str
    references: dict[str, str]
    mappings: dict[str, list[str]]
    mapping_lines: dict[str, Reader]


def _slug(reader: Reader, key: str) -> str:
    value = reader.text(key, max_length=80)
    if not all(c.isalnum() or c in "-_." for c in value):
        raise reader.error("may contain only letters, digits, '-', '_' and '.'", key)
    return value


def parse_framework(path: Path, label: str) -> FrameworkSpec:
    doc = read_yaml(path, label=label).mapping(["framework", "categories"])
    head = doc.child("framework").mapping(["key", "name", "version"], ["description"])
    spec = FrameworkSpec(
        key=_slug(head, "key"),
        name=head.text("name", max_length=200),
        version=head.text("version", max_length=80),
        description=head.text("description", max_length=2000, required=False),
        source_file=label,
    )
    refs_seen: dict[str, str] = {}
    series_seen: set[str] = set()
    for c_pos, cat in enumerate(doc.items("categories"), start=1):
        cat.mapping(["key", "name", "description", "series"], ["always_in_scope"])
        category = CategorySpec(
            key=_slug(cat, "key"),
            name=cat.text("name", max_length=80),
            description=cat.text("description", max_length=4000),
            always_in_scope=cat.boolean("always_in_scope", False),
            position=c_pos,
        )
        if any(c.key == category.key for c in spec.categories):
            raise cat.error(f"category {category.key!r} appears twice", "key")
        spec.categories.append(category)
        for ser in cat.items("series"):
            ser.mapping(["key", "name", "criteria"])
            series = SeriesSpec(
                key=ser.text("key", max_length=10),
                name=ser.text("name", max_length=120),
                category_key=category.key,
                position=len(spec.series) + 1,
            )
            if series.key in series_seen:
                raise ser.error(f"series {series.key!r} appears twice", "key")
            series_seen.add(series.key)
            spec.series.append(series)
            for crit in ser.items("criteria"):
                crit.mapping(["ref", "title", "description", "points_of_focus"], ["coso_principle"])
                ref = crit.text("ref", max_length=12)
                if ref in refs_seen:
                    raise crit.error(f"criterion {ref} appears twice", "ref")
                refs_seen[ref] = crit.path
                spec.criteria.append(
                    CriterionSpec(
                        ref=ref,
                        title=crit.text("title", max_length=200),
                        description=crit.text("description", max_length=4000),
                        coso_principle=crit.integer(
                            "coso_principle", minimum=1, maximum=17, required=False
                        ),
                        points_of_focus=tuple(crit.strings("points_of_focus", max_length=300)),
                        category_key=category.key,
                        series_key=series.key,
                        position=len(spec.criteria) + 1,
                    )
                )
    return spec


def parse_crosswalk(path: Path, label: str) -> CrosswalkSpec:
    doc = read_yaml(path, label=label).mapping(["framework", "references", "mappings"])
    head = doc.child("framework").mapping(["key", "name", "version", "criteria_framework"])
    references = doc.string_map("references", max_length=300)
    mappings_reader = doc.child("mappings")
    if not isinstance(mappings_reader.value, dict) or not mappings_reader.value:
        raise mappings_reader.error("must be a mapping of criterion to a list of reference ids")
    mappings: dict[str, list[str]] = {}
    lines: dict[str, Reader] = {}
    for ref in mappings_reader.value:
        ids = mappings_reader.strings(str(ref), max_length=40)
        for ref_id in ids:
            if ref_id not in references:
                raise mappings_reader.error(f"{ref_id!r} is not listed under references", str(ref))
        mappings[str(ref)] = list(dict.fromkeys(ids))
        lines[str(ref)] = mappings_reader
    return CrosswalkSpec(
        key=_slug(head, "key"),
        name=head.text("name", max_length=200),
        version=head.text("version", max_length=40),
        criteria_framework=_slug(head, "criteria_framework"),
        source_file=label,
        references=references,
        mappings=mappings,
        mapping_lines=lines,
    )


def check_crosswalk_refs(spec: CrosswalkSpec, known_refs: set[str]) -> None:
    for ref, reader in spec.mapping_lines.items():
        if ref not in known_refs:
            raise reader.error(f"{ref!r} is not a criterion of {spec.criteria_framework}", ref)


__all__ = [
    "CatalogError",
    "CategorySpec",
    "CriterionSpec",
    "CrosswalkSpec",
    "FrameworkSpec",
    "SeriesSpec",
    "check_crosswalk_refs",
    "parse_crosswalk",
    "parse_framework",
]
