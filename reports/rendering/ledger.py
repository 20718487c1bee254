"""Plain-text rows of the PDF's evidence index and Type 2 period details.

The evidence index is the longest part of a report (one entry per evidence version). WeasyPrint
lays out a one-cell row of preformatted monospace text several times faster than a row of six
cells, so each version becomes one fixed-width text block: nothing is cut, long names wrap
onto continuation lines under their own column. The cost of a table row (styles, boxes, row
layout) is then still about that of its lines of text, so versions go ``BAND`` to a row: a
third less layout time, and the shaded bands guide the eye as on a printed ledger.
"""

from __future__ import annotations

import re
import textwrap

from reports.content import EvidenceRow
from reports.rendering import period_grid

WIDTH = 119  # characters of DejaVu Sans Mono at 7 pt across the A4 text width
CODE = 10
PREFIX = CODE + 6 + 24 + 12 + 9  # code, version, effective period, valid until, state
NAME = WIDTH - PREFIX
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")

EVIDENCE_HEADER = (
    f"{'Control':<{CODE}}{'Ver.':<6}{'Effective period':<24}{'Valid until':<12}{'State':<9}"
    f"Item title · file or link\n{'':<{CODE}}SHA-256, reviewer"
)
SEPARATOR = " · "


def _clean(text: str) -> str:
    return _CONTROL_CHARS.sub(" ", text)


def _chunks(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def _words(text: str, width: int) -> list[str]:
    """``text`` wrapped at spaces; only a word longer than the column is cut."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def evidence_line(row: EvidenceRow) -> str:
    """One version: its control, number, period, validity, review state, item title and file
    or link (under the title when both do not fit on one line); the SHA-256 and reviewer
    under those. Two lines for most versions: the index's length is the report's."""
    code = _clean(row.control)
    lines = []
    if len(code) >= CODE:  # a long code gets a line of its own rather than being cut
        lines.append(code)
        code = ""
    period = f"{row.effective_start:%Y-%m-%d} – {row.effective_end:%Y-%m-%d}"
    prefix = f"{code:<{CODE}}{'v' + str(row.version):<6}{period:<24}{row.valid_until:%Y-%m-%d}  "
    prefix = f"{prefix}{row.review_state:<9}"
    title, name = _clean(row.item), _clean(row.name)
    if len(title) + len(SEPARATOR) + len(name) <= NAME:  # the usual case: one line
        lines.append(f"{prefix}{title}{SEPARATOR}{name}")
    else:
        title_lines = _words(title, NAME)
        lines.append(prefix + title_lines[0])
        lines.extend(" " * PREFIX + part for part in title_lines[1:])
        # A file name or URL is one token: cut only when longer than the column.
        lines.extend(" " * PREFIX + part for part in _chunks(name, NAME))
    tail = " " * CODE + row.sha256
    if row.reviewed_by:
        reviewer = f"  reviewed by {_clean(row.reviewed_by)}"
        if len(tail) + len(reviewer) <= WIDTH:
            tail += reviewer
        else:  # a long address goes on a line of its own rather than being cut
            lines.append(tail)
            tail = " " * CODE + reviewer.strip()
    lines.append(tail)
    return "\n".join(lines)


BAND = 5  # versions per table row (more makes WeasyPrint re-shape long texts line by line)


def evidence_bands(lines: list[str]) -> list[str]:
    """The entries of ``evidence_line``, ``BAND`` to a row of the ledger."""
    return ["\n".join(lines[i : i + BAND]) for i in range(0, len(lines), BAND)]


FLAGS_SHOWN = 3


def period_rows(rows: list[dict]) -> list[dict]:
    """``controls.charts.period_rows`` plus totals and the grid of ``period_grid``."""
    out = []
    for row in rows:
        states = [p["state"] for p in row["periods"]]
        out.append(
            {
                **row,
                "total": len(states),
                "upcoming": states.count("upcoming"),
                "grid": period_grid.grid(row["periods"]),
                "span": period_grid.span(row["periods"]),
                "missing_note": period_grid.missing_note(row["periods"]),
                # A daily control can carry a note for each of hundreds of versions: the
                # first few say what kind; the rest are counted, not printed.
                "flags": row["flags"][:FLAGS_SHOWN],
                "more_flags": max(0, len(row["flags"]) - FLAGS_SHOWN),
            }
        )
    return out
