"""The policy library shipped with the app: Markdown files with YAML front matter in
``policies/data/library/`` (format: that directory's README). Read once per process."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings

LIBRARY_DIR = Path(__file__).resolve().parent / "data" / "library"


@dataclass(frozen=True)
class LibraryPolicy:
    key: str
    title: str
    summary: str
    version: str
    review_cadence_months: int
    criteria: tuple[str, ...]
    controls: tuple[str, ...]
    body: str


def _parse(path: Path) -> LibraryPolicy:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise ValueError(f"{path.name}: no front matter")
    head, _, body = text[4:].partition("\n---\n")
    meta = yaml.safe_load(head) or {}
    return LibraryPolicy(
        key=str(meta["key"]),
        title=str(meta["title"]),
        summary=str(meta.get("summary", "")),
        version=str(meta.get("version", "1.0")),
        review_cadence_months=int(meta.get("review_cadence_months", 12)),
        criteria=tuple(str(c) for c in meta.get("criteria") or ()),
        controls=tuple(str(c) for c in meta.get("controls") or ()),
        body=body.strip() + "\n",
    )


@functools.cache
def _load(directory: str) -> dict[str, LibraryPolicy]:
    entries = [_parse(p) for p in sorted(Path(directory).glob("*.md")) if p.name != "README.md"]
    return {e.key: e for e in sorted(entries, key=lambda e: e.title)}


def library_dir() -> str:
    return str(getattr(settings, "POLICY_LIBRARY_DIR", None) or LIBRARY_DIR)


def library_entries() -> list[LibraryPolicy]:
    return list(_load(library_dir()).values())


def library_get(key: str) -> LibraryPolicy | None:
    return _load(library_dir()).get(key)
