"""Geometry of the readiness charts, computed here so templates only draw (server-rendered
SVG: no JavaScript, no CDN, and the same picture prints in the PDF reports)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from controls.operation import PERIOD_NOUN
from controls.readiness import AuditReadiness

BAR_WIDTH = 420  # px of the bar area; labels sit to its left
ROW_HEIGHT = 30
LABEL_WIDTH = 190
SEGMENTS = (("met", "Met"), ("partial", "Partial"), ("gap", "Gap"))


@dataclass
class Segment:
    status: str
    label: str
    count: int
    x: float
    width: float


@dataclass
class Bar:
    name: str
    score: str
    y: int
    text_y: int
    segments: list[Segment]
    not_applicable: int


def category_bars(readiness: AuditReadiness) -> dict:
    """One stacked bar per category (met / partial / gap criteria), plus the overall bar."""
    rows = [(c.name, c.counts, c.score) for c in readiness.categories]
    rows.append(("Overall", readiness.counts, readiness.score))
    bars = []
    for index, (name, counts, score) in enumerate(rows):
        total = sum(counts[s] for s, _ in SEGMENTS)
        x = float(LABEL_WIDTH)
        segments = []
        for status, label in SEGMENTS:
            width = BAR_WIDTH * counts[status] / total if total else 0.0
            if counts[status]:
                segments.append(
                    Segment(status, label, counts[status], round(x, 1), round(width, 1))
                )
            x += width
        y = index * ROW_HEIGHT + 6
        bars.append(Bar(name, f"{score}%", y, y + 14, segments, counts.get("not_applicable", 0)))
    return {
        "bars": bars,
        "width": LABEL_WIDTH + BAR_WIDTH + 70,
        "height": len(bars) * ROW_HEIGHT + 8,
        "score_x": LABEL_WIDTH + BAR_WIDTH + 8,
        "label_x": LABEL_WIDTH - 8,
        "track_x": LABEL_WIDTH,
        "track_width": BAR_WIDTH,
        "bar_height": 20,
    }


def _state(flag: object) -> str:
    if isinstance(flag, bool):
        return "covered" if flag else "missing"
    return str(flag)


# Up to this many sub-periods (weekly controls over a year) are one square each; more (daily
# controls) are drawn as runs of consecutive periods in the same state, one bar segment each:
# the same information in a few elements instead of hundreds per control.
SQUARES_UP_TO = 53


def period_runs(periods: list[dict]) -> list[dict]:
    """Consecutive ``periods`` in the same state as one run: state, count, first-last label."""
    runs: list[dict] = []
    for period in periods:
        if runs and runs[-1]["state"] == period["state"]:
            runs[-1]["count"] += 1
            runs[-1]["last"] = period["label"]
        else:
            runs.append({"state": period["state"], "count": 1, "first": period["label"]})
            runs[-1]["last"] = period["label"]
    for run in runs:
        start, end = run.pop("first").split(" – ")[0], run.pop("last").split(" – ")[-1]
        run["label"] = start if start == end else f"{start} – {end}"
    return runs


def period_rows(readiness: AuditReadiness) -> list[dict]:
    """For a Type 2 audit: each mapped control's sub-periods and whether evidence covers them."""
    rows = []
    for control_readiness in sorted(readiness.controls.values(), key=lambda r: r.control.code):
        if not control_readiness.control.is_applicable:
            continue
        periods = [
            {"label": period.label, "state": _state(flag)}
            for period, flag in control_readiness.periods
        ]
        rows.append(
            {
                "control": control_readiness.control,
                "periods": periods,
                "runs": period_runs(periods) if len(periods) > SQUARES_UP_TO else None,
                "covered": sum(p["state"] == "covered" for p in periods),
                "missing": sum(p["state"] == "missing" for p in periods),
                "failed": sum(p["state"] == "failed" for p in periods),
                "sample": control_readiness.sample,
                "note": control_readiness.note,
                "flags": control_readiness.flags,
            }
        )
    return rows


def exception_rows(readiness: AuditReadiness) -> list[dict]:
    """The exceptions list as people read it: consecutive missing periods of one control
    without a recorded deviation are one row (ninety missing days are one line, not ninety)."""
    rows: list[dict] = []
    for e in readiness.exceptions:
        last = rows[-1] if rows else None
        if (
            last is not None
            and e.kind == "missing"
            and e.deviation is None
            and last["kind"] == "missing"
            and last["deviation"] is None
            and last["control"].pk == e.control.pk
            and last["end"] + dt.timedelta(days=1) == e.period.start
        ):
            last["end"], last["count"] = e.period.end, last["count"] + 1
            continue
        rows.append(
            {
                "control": e.control,
                "kind": str(e.kind),
                "start": e.period.start,
                "end": e.period.end,
                "count": 1,
                "detail": e.detail,
                "owner": e.owner,
                "deviation": e.deviation,
                "item_id": e.item_id,
                "tested_by": e.tested_by,
            }
        )
    for row in rows:
        if row["count"] > 1:
            _, many = PERIOD_NOUN.get(row["control"].frequency, ("period", "periods"))
            row["detail"] = (
                f"{row['control'].code} has no evidence for {row['count']} {many} in a row"
            )
    return rows
