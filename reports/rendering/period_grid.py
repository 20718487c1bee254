"""The Type 2 sub-periods of a control drawn as a grid of coloured cells, as on the audit's
web page (``templates/controls/audit_detail.html``): one square per sub-period up to a
weekly control's 53, a bar of runs of consecutive days in the same state for a daily
control. Each grid is one small inline SVG: a single box for WeasyPrint to place (cheap, and
never split over two pages), coloured by attributes (WeasyPrint's SVG renderer does not read
the document's stylesheet).
"""

from __future__ import annotations

import math

from controls.charts import SQUARES_UP_TO, period_runs

WIDTH = 300  # px of the grid's column (a little under its 83 mm)
GAP = 3
MAX_CELL = 14
BAR_HEIGHT = 12
PER_ROW = 27  # a weekly control's 53 squares make two rows

FILLS = {"covered": "#2f9e5b", "missing": "#d9534f", "upcoming": "#eef1f6", "failed": "#7a1f3d"}
STROKES = {"upcoming": "#9aa5b1"}
LEGEND = [
    ("covered", "Accepted evidence"),
    ("missing", "No accepted evidence (an exception)"),
    ("upcoming", "Not ended yet"),
    ("failed", "A test failed (an exception)"),
]
MISSING_NAMED = 3  # up to this many missing sub-periods are named under the grid


def _cell(x: float, y: float, w: float, h: float, state: str) -> dict:
    return {
        "x": round(x, 2),
        "y": round(y, 2),
        "w": round(max(w, 1.0), 2),
        "h": h,
        "fill": FILLS.get(state, "#c9ced8"),
        "stroke": STROKES.get(state, "none"),
    }


def grid(periods: list[dict]) -> dict:
    """``{"width", "height", "cells"}`` for the SVG of ``periods`` (label and state each)."""
    n = len(periods)
    if not n:
        return {"width": 0, "height": 0, "cells": []}
    if n > SQUARES_UP_TO:
        runs = period_runs(periods)
        usable = WIDTH - (len(runs) - 1)
        cells, x = [], 0.0
        for run in runs:
            w = usable * run["count"] / n
            cells.append(_cell(x, 0.5, w, BAR_HEIGHT, run["state"]))
            x += max(w, 1.0) + 1
        return {"width": WIDTH, "height": BAR_HEIGHT + 1, "cells": cells}
    per_row = n if n <= PER_ROW else math.ceil(n / math.ceil(n / PER_ROW))
    size = min(MAX_CELL, (WIDTH - (per_row - 1) * GAP) / per_row)
    cells = [
        _cell(
            (i % per_row) * (size + GAP) + 0.5,
            (i // per_row) * (size + GAP) + 0.5,
            size,
            size,
            p["state"],
        )
        for i, p in enumerate(periods)
    ]
    rows = math.ceil(n / per_row)
    return {"width": WIDTH, "height": math.ceil(rows * (size + GAP)), "cells": cells}


def span(periods: list[dict]) -> str:
    """The first day of the first sub-period to the last day of the last."""
    if not periods:
        return ""
    first = periods[0]["label"].split(" – ")[0]
    last = periods[-1]["label"].split(" – ")[-1]
    return first if first == last else f"{first} – {last}"


def missing_note(periods: list[dict]) -> str:
    missing = [p["label"] for p in periods if p["state"] == "missing"]
    if not missing:
        return ""
    if len(missing) <= MISSING_NAMED:
        return "No accepted evidence: " + "; ".join(missing) + "."
    return f"{len(missing)} sub-periods without accepted evidence: see Exceptions."
