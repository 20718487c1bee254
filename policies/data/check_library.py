"""Check the policy library (``policies/data/library/*.md``) without Django.

Run from anywhere: ``python policies/data/check_library.py``. It prints one line per
problem and exits with status 1 if there is any. It checks that each file:

* (every ``*.md`` except ``README.md``) starts with YAML front matter holding exactly the expected keys, of the right types;
* has a ``key`` equal to its file name and unique in the library;
* cites criteria that exist in ``criteria/data/tsc-2017.yaml`` and control codes that
  exist in ``controls/data/library.yaml``, and that every cited criterion is one that at
  least one of the cited controls maps to (so the two lists tell the same story);
* uses no placeholder other than ``{{ organization_name }}``, and uses that one;
* has the required sections in order, policy statements numbered 1..N without gaps;
* has 600 to 1,400 words in its body, no HTML, no raw URLs, no table wider than 4 columns.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent
ROOT = DATA.parent.parent
LIBRARY = DATA / "library"
CATALOG = ROOT / "criteria" / "data" / "tsc-2017.yaml"
CONTROLS = ROOT / "controls" / "data" / "library.yaml"

REQUIRED = {
    "key": str,
    "title": str,
    "version": str,
    "review_cadence_months": int,
    "criteria": list,
    "controls": list,
    "summary": str,
}
SECTIONS = [
    "Purpose",
    "Scope",
    "Roles and responsibilities",
    "Policy statements",
    "Exceptions",
    "Enforcement",
    "Review",
]
PLACEHOLDER = "{{ organization_name }}"
MIN_WORDS, MAX_WORDS, MAX_COLUMNS = 600, 1400, 4
KEY_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
VERSION_RE = re.compile(r"^\d+\.\d+$")
TEMPLATE_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
HTML_RE = re.compile(r"<[A-Za-z!/?][^>]*>")
URL_RE = re.compile(r"(?i)\b(?:https?|ftp)://|\bwww\.\w")
ITEM_RE = re.compile(r"^(\d+)\.\s")


def catalog_refs() -> set[str]:
    data = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    return {
        criterion["ref"]
        for category in data["categories"]
        for series in category["series"]
        for criterion in series["criteria"]
    }


def control_criteria() -> dict[str, set[str]]:
    data = yaml.safe_load(CONTROLS.read_text(encoding="utf-8"))
    return {t["code"]: set(t["criteria"]) for t in data["templates"]}


def split(text: str) -> tuple[str, str] | None:
    """Return (front matter, body), or None if the file does not start with front matter."""
    if not text.startswith("---\n"):
        return None
    end = text.find("\n---\n", 4)
    if end < 0:
        return None
    return text[4:end], text[end + 5 :]


def check_front(name: str, meta: object, refs: set[str], controls: dict) -> list[str]:
    if not isinstance(meta, dict):
        return [f"{name}: front matter is not a mapping"]
    problems = []
    missing = [k for k in REQUIRED if k not in meta]
    extra = [k for k in meta if k not in REQUIRED]
    if missing:
        problems.append(f"{name}: missing keys {', '.join(missing)}")
    if extra:
        problems.append(f"{name}: unexpected keys {', '.join(map(str, extra))}")
    for key, kind in REQUIRED.items():
        value = meta.get(key)
        if key in meta and (not isinstance(value, kind) or isinstance(value, bool)):
            problems.append(f"{name}: {key} must be a {kind.__name__}, got {value!r}")
    if problems:
        return problems
    if meta["key"] != name or not KEY_RE.match(meta["key"]):
        problems.append(f"{name}: key {meta['key']!r} must be the file name, lower-kebab-case")
    if not VERSION_RE.match(meta["version"]):
        problems.append(f'{name}: version {meta["version"]!r} must look like "1.0"')
    if not 1 <= meta["review_cadence_months"] <= 36:
        problems.append(f"{name}: review_cadence_months must be 1 to 36")
    summary = meta["summary"].strip()
    if not summary or "\n" in summary or len(summary) > 200 or TEMPLATE_RE.search(summary):
        problems.append(f"{name}: summary must be one line of at most 200 characters")
    for field in ("criteria", "controls"):
        values = meta[field]
        if not values or not all(isinstance(v, str) for v in values):
            problems.append(f"{name}: {field} must be a non-empty list of strings")
        elif len(set(values)) != len(values):
            problems.append(f"{name}: {field} lists a value twice")
    if problems:
        return problems
    problems += [f"{name}: unknown criterion {r}" for r in meta["criteria"] if r not in refs]
    problems += [f"{name}: unknown control {c}" for c in meta["controls"] if c not in controls]
    backed = set().union(*(controls.get(c, set()) for c in meta["controls"]))
    problems += [
        f"{name}: criterion {r} is not mapped by any of its controls"
        for r in meta["criteria"]
        if r in refs and r not in backed
    ]
    return problems


def check_body(name: str, body: str) -> list[str]:
    problems = []
    for found in TEMPLATE_RE.findall(body):
        if found != PLACEHOLDER:
            problems.append(f"{name}: placeholder {found!r} is not allowed")
    stripped = TEMPLATE_RE.sub("", body)
    if "{{" in stripped or "}}" in stripped or "{%" in stripped:
        problems.append(f"{name}: stray template braces")
    if PLACEHOLDER not in body:
        problems.append(f"{name}: never names {PLACEHOLDER}")
    if HTML_RE.search(body):
        problems.append(f"{name}: contains HTML ({HTML_RE.search(body).group(0)})")
    if URL_RE.search(body):
        problems.append(f"{name}: contains a raw URL")
    lines = body.splitlines()
    headings = [line[3:].strip() for line in lines if line.startswith("## ")]
    if headings != SECTIONS:
        problems.append(f"{name}: sections are {headings}, expected {SECTIONS}")
    if any(line.startswith("# ") for line in lines):
        problems.append(f"{name}: no level-1 heading (the title comes from the front matter)")
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("|") and line.count("|") - 1 > MAX_COLUMNS:
            problems.append(f"{name}: table wider than {MAX_COLUMNS} columns (body line {number})")
    statements = _section(lines, "Policy statements")
    numbers = [int(m.group(1)) for line in statements if (m := ITEM_RE.match(line))]
    if not numbers or numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"{name}: policy statements must be numbered 1..N, got {numbers}")
    words = len([w for w in body.split() if any(ch.isalnum() for ch in w)])
    if not MIN_WORDS <= words <= MAX_WORDS:
        problems.append(f"{name}: {words} words, expected {MIN_WORDS} to {MAX_WORDS}")
    return problems


def _section(lines: list[str], title: str) -> list[str]:
    inside, found = False, []
    for line in lines:
        if line.startswith("## "):
            inside = line[3:].strip() == title
        elif inside:
            found.append(line)
    return found


def main() -> int:
    refs, controls = catalog_refs(), control_criteria()
    problems: list[str] = []
    keys: dict[str, str] = {}
    files = sorted(p for p in LIBRARY.glob("*.md") if p.name != "README.md")
    if not files:
        problems.append(f"no policies in {LIBRARY}")
    for path in files:
        name = path.stem
        parts = split(path.read_text(encoding="utf-8"))
        if parts is None:
            problems.append(f"{name}: does not start with --- front matter ---")
            continue
        try:
            meta = yaml.safe_load(parts[0])
        except yaml.YAMLError as exc:
            problems.append(f"{name}: front matter is not valid YAML ({exc})")
            continue
        problems += check_front(name, meta, refs, controls)
        problems += check_body(name, parts[1])
        if isinstance(meta, dict) and isinstance(meta.get("key"), str):
            if meta["key"] in keys:
                problems.append(f"{name}: key {meta['key']} also used by {keys[meta['key']]}")
            keys.setdefault(meta["key"], name)
    for problem in problems:
        print(problem)
    print(f"{len(files)} policies, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
