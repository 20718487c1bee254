"""Shared helpers of the benchmark sections: timing, peak memory and the printed table."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Figure:
    section: str
    name: str
    value: str
    note: str = ""


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)

    def add(self, section: str, name: str, value: str, note: str = "") -> None:
        self.figures.append(Figure(section, name, value, note))
        print(f"  {section:<11} {name:<52} {value:>14}  {note}", flush=True)

    def table(self) -> str:
        widths = [
            max(len(getattr(f, a)) for f in self.figures) for a in ("section", "name", "value")
        ]
        lines = []
        for f in self.figures:
            lines.append(
                f"{f.section:<{widths[0]}}  {f.name:<{widths[1]}}  {f.value:>{widths[2]}}  {f.note}".rstrip()
            )
        return "\n".join(lines)


def timed(fn: Callable[[], Any], *, repeat: int = 1) -> tuple[float, Any]:
    """Median wall time of ``repeat`` runs, in seconds, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
