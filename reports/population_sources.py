"""Ready-made populations that other apps offer for a Type 2 audit's sampling.

An app registers a *source* once (in its ``AppConfig.ready``): a key, a label shown where
populations are supplied, and a function that lists the items of an organization inside the
observation window. ``reports.populations.population_from_source`` stores what it returns like
any other population (validated, hashed, versioned, never edited), with source ``built`` and
the label as its name. ``reports`` knows nothing of the apps behind the sources (the roster's
joiners and leavers are the first: ``people.populations``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from reports.sampling import Row

#: (organization id, window start, window end) -> the items, any order.
BuildRows = Callable[[int, dt.date, dt.date], list[Row]]


@dataclass(frozen=True)
class PopulationSourceSpec:
    key: str  # e.g. "people.joiners"
    label: str  # e.g. "New hires in the window (roster)"
    build: BuildRows
    empty_message: str = "Nothing falls inside the window."


_SOURCES: dict[str, PopulationSourceSpec] = {}


def source_register(spec: PopulationSourceSpec) -> None:
    _SOURCES[spec.key] = spec


def source_get(key: str) -> PopulationSourceSpec | None:
    return _SOURCES.get(key)


def sources() -> list[PopulationSourceSpec]:
    return sorted(_SOURCES.values(), key=lambda s: s.label)
