"""Reading a CSV file for an import, shared by the importers (the roster, training completions,
vendors). Each importer keeps its own rules for a row; this module owns what they have in common:

- the file: at most ``max_bytes``; UTF-8 with or without a byte-order mark, or UTF-16 with one
  (what some spreadsheets save as "Unicode"); anything else, an empty or a binary file, or text
  the ``csv`` module cannot parse is refused with one message saying what to do;
- the header: names matched case-insensitively, spaces read as underscores, in any order;
  unknown, repeated and missing required columns are named (``match_header``);
- the rows: numbered as lines of the file (the header is row 1), blank lines skipped, at most
  ``max_rows``; a row with more cells than the header is refused, a shorter one padded;
- the problems: every one with its row and column (``Problems``), the first ``MAX_ERRORS`` kept
  for display and all counted; ``ImportRejected`` carries them when an apply is refused;
- echoing a cell back in a message (``echo``): short, without control characters, and never
  starting like a spreadsheet formula, since messages end up in exports and API clients' logs.

The preview between upload and confirm is held by ``soc2app.csv_pending``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from soc2app.errors import ValidationFailed

MAX_ERRORS = 200  # listed back; the count says how many more
# A cell a spreadsheet would run as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_BOMS_16 = (b"\xff\xfe", b"\xfe\xff")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class Problems:
    """Every problem of a file, each naming its row (1: the file or its header) and column."""

    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message))

    def summary(self) -> str:
        shown = "; ".join(f"row {e.row} ({e.column}): {e.message}" for e in self.errors[:5])
        more = self.error_count - min(5, len(self.errors))
        return f"{self.error_count} problem(s): {shown}" + (f" … and {more} more." if more else "")


class ImportRejected(ValidationFailed):
    """The file breaks a rule; ``plan`` lists every problem, each naming its row and column."""

    def __init__(self, plan: Problems) -> None:
        super().__init__(f"Nothing was imported. {plan.summary()}", field="file")
        self.plan = plan


class FileRefused(ValidationFailed):
    """The file as a whole cannot be read as CSV (size, encoding, binary, syntax)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


def decode(data: bytes, *, max_bytes: int, what: str = "the list") -> str:
    """The file's text; ``FileRefused`` saying what to do when it is not a readable CSV."""
    if not data.strip():
        raise FileRefused(f"The file is empty: export {what} as CSV with a header row.")
    if len(data) > max_bytes:
        raise FileRefused(f"The file is over {_size(max_bytes)}: split it.")
    if data.startswith(_BOMS_16):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileRefused("The file is not UTF-16 text as its first bytes say.") from exc
    if b"\x00" in data:
        raise FileRefused("This is not a CSV file (it holds binary data).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused("The file is not UTF-8 text: save it as “CSV UTF-8”.") from exc


def _size(limit: int) -> str:
    mb = limit / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{limit // 1024} KB"


def read_rows(text: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise FileRefused(f"The file is not valid CSV ({exc}).") from exc


def body_rows(table: list[list[str]]) -> list[tuple[int, list[str]]]:
    """The rows under the header with their line numbers; blank rows skipped."""
    return [
        (n, cells) for n, cells in enumerate(table[1:], start=2) if any(c.strip() for c in cells)
    ]


@dataclass(frozen=True)
class Header:
    names: list[str]
    unknown: list[str]
    repeated: list[str]
    missing: list[str]


def match_header(
    cells: Sequence[str], *, columns: Sequence[str], required: Sequence[str]
) -> Header:
    names = [c.strip().lower().replace(" ", "_") for c in cells]
    return Header(
        names=names,
        unknown=[n for n in names if n not in columns],
        repeated=sorted({n for n in names if names.count(n) > 1}),
        missing=[n for n in required if n not in names],
    )


@dataclass(frozen=True)
class Spec:
    """An import's columns and limits; ``what`` names the file in messages ("the roster")."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    max_rows: int
    max_bytes: int
    what: str

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass
class Table:
    names: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line number, cells by column), well-formed only


def read_table(data: bytes, spec: Spec, problems: Problems) -> Table | None:
    """The file's rows by column name, or None with the reason in ``problems``. A row with too
    many cells is a problem of its own and left out; the others are read."""
    try:
        table = read_rows(decode(data, max_bytes=spec.max_bytes, what=spec.what))
    except FileRefused as exc:
        problems.error(1, "", exc.message)
        return None
    if not table or not any(c.strip() for c in table[0]):
        problems.error(1, "", "The first row must be the header: " + ", ".join(spec.columns) + ".")
        return None
    body = body_rows(table)
    if len(body) > spec.max_rows:
        problems.error(
            1, "", f"The file has {len(body):,} rows; import at most {spec.max_rows:,} at once."
        )
        return None
    header = match_header(table[0], columns=spec.columns, required=spec.required)
    for name in header.unknown:
        problems.error(
            1, name, f"Unknown column {echo(name)}: the columns are {', '.join(spec.columns)}."
        )
    for name in header.repeated:
        problems.error(1, name, f"The column {echo(name)} appears twice.")
    for name in header.missing:
        problems.error(1, name, f"The header has no {name!r} column.")
    if not problems.ok:
        return None
    if not body:
        problems.error(2, "", "The file has a header but no rows.")
        return None
    names, rows = header.names, []
    for number, cells in body:
        if len(cells) > len(names):
            problems.error(number, "", f"The row has {len(cells)} cells; the header {len(names)}.")
            continue
        rows.append(
            (number, dict(zip(names, [*cells, *[""] * (len(names) - len(cells))], strict=True)))
        )
    return Table(names=names, rows=rows)


def parse_date(value: str) -> dt.date | None:
    """An ISO date (``YYYY-MM-DD``), or None when ``value`` is not one."""
    value = value.strip()
    if not ISO_DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def formula_like(value: str) -> bool:
    return value.startswith(FORMULA_START)


def echo(value: object, *, limit: int = 60) -> str:
    """A cell quoted for a message: control characters dropped, cut at ``limit``, and a leading
    formula character neutralised with an apostrophe (as exports do)."""
    text = "".join(c for c in str(value) if ord(c) >= 32 and c != "\x7f")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if formula_like(text):
        text = "'" + text
    return repr(text)
