"""Items failed in sample testing, as exceptions of the readiness engine.

Registered with ``controls.readiness_providers`` by ``ReportsConfig.ready``: ``controls`` never
imports ``reports`` (``reports`` builds on it), so the engine learns about samples through the
registry rather than a lazy import.
"""

from __future__ import annotations

from controls.models import Audit
from controls.periods import Period
from controls.readiness_types import ControlException, ControlReadiness, ExceptionKind
from reports.selectors_sampling import sample_exceptions


def failed_sample_items(
    audit: Audit, controls: dict[int, ControlReadiness]
) -> list[ControlException]:
    """One exception per item marked *exception* in the audit's samples, dated by the item
    (one query: ``sample_exceptions``). Controls not in scope are left to the engine."""
    found = []
    for s in sample_exceptions(audit):
        readiness = controls.get(s.control_id)
        if readiness is None:
            continue
        note = " ".join(s.note.split())
        found.append(
            ControlException(
                readiness.control,
                Period(s.date, s.date),
                ExceptionKind.FAILED,
                f"{s.control_code} failed sample testing: item {s.item_id}: {note.rstrip('.')} "
                f"(tested by {s.tested_by or 'unknown'})",
                item_id=s.item_id,
                tested_by=s.tested_by,
            )
        )
    return found
