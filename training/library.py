"""The training library shipped with the app: built-in modules as Markdown files with YAML
front matter in ``training/data/`` (key, title, summary, version, due_days, every_months,
criteria, controls). Read once per process."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

LIBRARY_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class LibraryModule:
    key: str
    title: str
    summary: str
    version: str
    due_days: int
    every_months: int
    criteria: tuple[str, ...]
    controls: tuple[str, ...]
    body: str


def _parse(path: Path) -> LibraryModule:
    text = path.read_text(encoding="utf-8")
    head, _, body = text.removeprefix("---\n").partition("\n---\n")
    meta = yaml.safe_load(head) or {}
    return LibraryModule(
        key=str(meta["key"]),
        title=str(meta["title"]),
        summary=str(meta.get("summary", "")),
        version=str(meta.get("version", "1.0")),
        due_days=int(meta.get("due_days", 30)),
        every_months=int(meta.get("every_months", 12)),
        criteria=tuple(str(c) for c in meta.get("criteria") or ()),
        controls=tuple(str(c) for c in meta.get("controls") or ()),
        body=body.strip() + "\n",
    )


@functools.cache
def _load() -> dict[str, LibraryModule]:
    entries = [_parse(p) for p in sorted(LIBRARY_DIR.glob("*.md"))]
    return {e.key: e for e in sorted(entries, key=lambda e: e.title)}


def library_entries() -> list[LibraryModule]:
    return list(_load().values())


def library_get(key: str) -> LibraryModule | None:
    return _load().get(key)
