"""Loading the whole shipped catalog: frameworks, crosswalks and control libraries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.db import transaction

from controls.library_loader import DATA_DIR as LIBRARY_DIR
from controls.library_loader import (
    load_frequency_rules,
    load_library,
    parse_frequency_rules,
    parse_library,
)
from controls.operation import parse_operation_rules
from criteria.loader import DATA_DIR, LoadReport, load_crosswalk, load_framework
from criteria.specs import parse_crosswalk, parse_framework

RULES_FILE = "frequency_rules.yaml"


def shipped_files() -> dict[str, list[Path]]:
    return {
        "frameworks": sorted(DATA_DIR.glob("*.yaml")),
        "crosswalks": sorted((DATA_DIR / "crosswalks").glob("*.yaml")),
        "libraries": sorted(p for p in LIBRARY_DIR.glob("*.yaml") if p.name != RULES_FILE),
    }


def _label(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


def catalog_load(
    *,
    frameworks: Sequence[Path] | None = None,
    crosswalks: Sequence[Path] | None = None,
    libraries: Sequence[Path] | None = None,
) -> LoadReport:
    """Parse every file first, then write them all in one transaction (all or nothing)."""
    shipped = shipped_files()
    framework_specs = [
        parse_framework(p, _label(p))
        for p in (frameworks if frameworks is not None else shipped["frameworks"])
    ]
    crosswalk_specs = [
        parse_crosswalk(p, _label(p))
        for p in (crosswalks if crosswalks is not None else shipped["crosswalks"])
    ]
    library_specs = [
        parse_library(p, _label(p))
        for p in (libraries if libraries is not None else shipped["libraries"])
    ]
    rules_path = LIBRARY_DIR / RULES_FILE
    rules = parse_frequency_rules(rules_path, _label(rules_path))
    parse_operation_rules(rules_path, _label(rules_path))  # checked here, read at run time
    report = LoadReport()
    with transaction.atomic():
        load_frequency_rules(rules, report)
        for spec in framework_specs:
            load_framework(spec, report)
        for spec in crosswalk_specs:
            load_crosswalk(spec, report)
        for spec in library_specs:
            load_library(spec, report)
    return report
