"""The library of common risks (``risks/data/library.yaml``), read once per process."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

LIBRARY_FILE = Path(__file__).resolve().parent / "data" / "library.yaml"


@dataclass(frozen=True)
class LibraryRisk:
    key: str
    title: str
    description: str
    category: str
    likelihood: int
    impact: int
    controls: tuple[str, ...]
    criteria: tuple[str, ...]


@functools.cache
def library() -> tuple[LibraryRisk, ...]:
    doc = yaml.safe_load(LIBRARY_FILE.read_text(encoding="utf-8"))
    return tuple(
        LibraryRisk(
            key=row["key"],
            title=row["title"],
            description=row["description"],
            category=row["category"],
            likelihood=int(row["likelihood"]),
            impact=int(row["impact"]),
            controls=tuple(row.get("controls", ())),
            criteria=tuple(row.get("criteria", ())),
        )
        for row in doc["risks"]
    )


def library_entry(key: str) -> LibraryRisk | None:
    return next((entry for entry in library() if entry.key == key), None)
