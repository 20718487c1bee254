"""The pure parts of populations and samples: parsing and validating a population CSV, its
canonical form and hash, the suggested sample size and the seeded draw. No database here.

Canonical form of a population (what its SHA-256 is computed over, and exactly what its export
downloads, so ``sha256sum export.csv`` prints the stored hash): UTF-8 without a byte-order mark;
the header ``id,date,description``; one line per item sorted by id in Unicode code point order
(byte order of UTF-8, ``LC_ALL=C sort``); dates as ``YYYY-MM-DD``; CSV quoting only where
needed (a description containing a comma or a double quote is enclosed in double quotes, inner
quotes doubled); every line, the last included, ends with LF.

The seeded draw: each item's key is HMAC-SHA256 with the seed (UTF-8) as key and the item id
(UTF-8) as message, in lowercase hex; items are ordered by key (ties, which do not happen in
practice, by id) and the first ``size`` are the sample. Any language with HMAC can re-draw it;
the README has a ten-line script.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import heapq
import hmac
import io
import math
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

HEADER = ("id", "date", "description")
MAX_ROWS = 100_000
MAX_BYTES = 30 * 1024 * 1024
MAX_ERRORS = 20  # listed back to the user; the count says how many more
ID_MAX = 100
DESCRIPTION_MAX = 500
# Ids are plain identifiers (HR numbers, ticket keys): no spaces, quotes or formula signs.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,99}")
# A cell a spreadsheet would run as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SEED_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
SIZES_FILE = Path(__file__).resolve().parent / "data" / "sample_sizes.yaml"


@dataclass(frozen=True)
class Row:
    item_id: str
    date: dt.date
    description: str


@dataclass
class Parsed:
    """The outcome of validating a population: its rows (empty when any error was found:
    nothing partial is ever stored), the errors and the warnings, each naming its row."""

    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)

    def summary(self) -> str:
        more = self.error_count - len(self.errors)
        tail = f" … and {more} more." if more > 0 else ""
        return " ".join(self.errors) + tail


def neutralise(text: str) -> str:
    """A description a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def validate_rows(
    raw: Iterable[tuple[int, Sequence[str]]], *, window: tuple[dt.date, dt.date]
) -> Parsed:
    """Check ``(row number, [id, date, description])`` rows against the rules; row numbers
    are as a spreadsheet shows them (the header is row 1)."""
    out = Parsed()
    seen: dict[str, int] = {}
    start, end = window
    rows: list[Row] = []
    dates: dict[str, dt.date] = {}  # a window has at most a few hundred distinct days
    count = 0
    for number, cells in raw:
        if not cells:  # a blank line
            continue
        count += 1
        if count > MAX_ROWS:
            out.error(f"Row {number}: a population holds at most {MAX_ROWS:,} items; split it.")
            break
        if len(cells) != 3:
            out.error(f"Row {number}: expected 3 cells (id, date, description), got {len(cells)}.")
            continue
        item_id, raw_date, description = (c.strip() for c in cells)
        if not ID_PATTERN.fullmatch(item_id):
            out.error(
                f"Row {number}: the id {item_id[:40]!r} is not a plain identifier (letters, "
                f"digits and . _ : / # -, starting with a letter or digit, at most {ID_MAX})."
            )
            continue
        if item_id in seen:
            out.error(f"Row {number}: the id {item_id} repeats row {seen[item_id]}.")
            continue
        seen[item_id] = number
        date = dates.get(raw_date)
        if date is None and len(raw_date) == 10:
            try:
                date = dates[raw_date] = dt.date.fromisoformat(raw_date)
            except ValueError:
                date = None
        if date is None:
            out.error(f"Row {number}: the date {raw_date[:20]!r} is not a date as YYYY-MM-DD.")
            continue
        if not start <= date <= end:
            out.error(f"Row {number}: {date} is outside the observation window ({start} to {end}).")
            continue
        if len(description) > DESCRIPTION_MAX:
            out.error(f"Row {number}: keep the description under {DESCRIPTION_MAX} characters.")
            continue
        if any(ch in description for ch in "\r\n\x00"):
            out.error(f"Row {number}: the description spans several lines; keep it on one.")
            continue
        safe = neutralise(description)
        if safe != description:
            out.warnings.append(
                f"Row {number}: the description starts like a spreadsheet formula; it is "
                "stored with a leading apostrophe."
            )
        rows.append(Row(item_id, date, safe))
    if out.ok and not rows:
        out.error("The population is empty: add one row per occurrence under the header.")
    if out.ok:
        out.rows = rows
    return out


def parse_csv(data: bytes, *, window: tuple[dt.date, dt.date]) -> Parsed:
    """Validate an uploaded population file: UTF-8 CSV with the header ``id,date,description``."""
    if len(data) > MAX_BYTES:
        return _fail(f"The file is over {MAX_BYTES // (1024 * 1024)} MB: split the population.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return _fail(f"Row {line}: the file is not UTF-8 text; save it as CSV UTF-8.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip().lower() for h in header) != HEADER:
            got = ",".join(header or [])[:80]
            return _fail(f"Row 1: the header must be exactly id,date,description (got {got!r}).")
        return validate_rows(((reader.line_num, cells) for cells in reader), window=window)
    except csv.Error as exc:
        return _fail(f"Row {reader.line_num}: the CSV cannot be read ({exc}).")


def _fail(message: str) -> Parsed:
    out = Parsed()
    out.error(message)
    return out


def _cell(text: str) -> str:
    # Ids and dates never need quotes (their patterns exclude commas and quotes); a
    # description does when it holds a comma or a double quote (line breaks are refused).
    if "," in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def canonical_lines(rows: Iterable[Row]) -> Iterable[str]:
    """The canonical form, line by line (see the module docstring)."""
    yield ",".join(HEADER) + "\n"
    for row in sorted(rows, key=lambda r: r.item_id):
        yield f"{row.item_id},{row.date.isoformat()},{_cell(row.description)}\n"


def canonical_csv(rows: Iterable[Row]) -> bytes:
    return "".join(canonical_lines(rows)).encode("utf-8")


def canonical_sha256(rows: Iterable[Row]) -> str:
    digest = hashlib.sha256()
    for line in canonical_lines(rows):
        digest.update(line.encode("utf-8"))
    return digest.hexdigest()


def new_seed() -> str:
    return secrets.token_hex(16)


def draw_key(seed: str, item_id: str) -> str:
    return hmac.digest(seed.encode("utf-8"), item_id.encode("utf-8"), "sha256").hex()


def seeded_order(seed: str, item_ids: Iterable[str]) -> list[str]:
    """Every id, in draw order: the sample of size n is the first n."""
    return seeded_sample(seed, item_ids, None)


def seeded_sample(seed: str, item_ids: Iterable[str], size: int | None) -> list[str]:
    """The first ``size`` ids in draw order (all of them when ``size`` is None). The raw
    digests order as their hex does; ``hmac.digest`` is the one-shot (C) HMAC."""
    key = seed.encode("utf-8")

    def order(item_id: str) -> tuple[bytes, str]:
        return hmac.digest(key, item_id.encode("utf-8"), "sha256"), item_id

    if size is None:
        return sorted(item_ids, key=order)
    return heapq.nsmallest(size, item_ids, key=order)


@cache
def _size_rules() -> list[dict]:
    return yaml.safe_load(SIZES_FILE.read_text(encoding="utf-8"))["rules"]


def suggested_size(population: int) -> int:
    """The conventional sample size for a population of ``population`` occurrences."""
    for rule in _size_rules():
        if "up_to" in rule and population > rule["up_to"]:
            continue
        if rule.get("all"):
            size = population
        elif "percent" in rule:
            size = math.ceil(population * rule["percent"] / 100)
        else:
            size = int(rule["size"])
        return max(0, min(size, population))
    return population
