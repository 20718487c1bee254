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

from reports.content import EvidenceRow

WIDTH = 128  # characters of DejaVu Sans Mono at 6.5 pt across the A4 text width
CODE = 14
PREFIX = CODE + 6 + 24 + 12 + 9  # code, version, effective period, valid until, state
NAME = WIDTH - PREFIX
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")

EVIDENCE_HEADER = (
    f"{'Control':<{CODE}}{'Ver.':<6}{'Effective period':<24}{'Valid until':<12}{'State':<9}"
    f"File or link\n{'':<{CODE}}SHA-256, reviewer"
)


def _clean(text: str) -> str:
    return _CONTROL_CHARS.sub(" ", text)


def _chunks(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def evidence_line(row: EvidenceRow) -> str:
    code = _clean(row.control)
    lines = []
    if len(code) >= CODE:  # a long code gets a line of its own rather than being cut
        lines.append(code)
        code = ""
    period = f"{row.effective_start:%Y-%m-%d} – {row.effective_end:%Y-%m-%d}"
    prefix = f"{code:<{CODE}}{'v' + str(row.version):<6}{period:<24}{row.valid_until:%Y-%m-%d}  "
    prefix = f"{prefix}{row.review_state:<9}"
    name = _chunks(_clean(row.name), NAME)
    lines.append(prefix + name[0])
    lines.extend(" " * PREFIX + part for part in name[1:])
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


PERIODS_LISTED = 12  # up to this many sub-periods are listed one by one
MISSING_LISTED = 8


def period_detail(periods: list[dict]) -> str:
    """The sub-periods of one control: each with its state when there are few (a quarterly
    control), the missing ones when there are many (a daily control has 365)."""
    if not periods:
        return ""
    if len(periods) <= PERIODS_LISTED:
        return "; ".join(f"{p['label']}: {p['state']}" for p in periods)
    missing = [p["label"] for p in periods if p["state"] == "missing"]
    if not missing:
        return "No ended sub-period is without evidence."
    shown = ", ".join(missing[:MISSING_LISTED])
    more = len(missing) - MISSING_LISTED
    return f"Without evidence: {shown}" + (f" and {more} more" if more > 0 else "") + "."


def period_rows(rows: list[dict]) -> list[dict]:
    """``controls.charts.period_rows`` plus totals and the detail text."""
    out = []
    for row in rows:
        states = [p["state"] for p in row["periods"]]
        out.append(
            {
                **row,
                "total": len(states),
                "upcoming": states.count("upcoming"),
                "detail": period_detail(row["periods"]),
            }
        )
    return out
