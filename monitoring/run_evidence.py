"""What a finished run adds to the evidence of the controls its checks map to.

``run_evidence_record`` is called by ``monitoring.services.results_ingest`` at the end of every
run, inside its transaction, whatever the run's source (a push, a scheduled or manual run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from controls.models import Control
    from monitoring.models import Check, CheckResult, CheckRun


def run_evidence_record(
    *,
    run: CheckRun,
    checks: dict[str, Check],
    controls: dict[str, list[Control]],
    rows: Sequence[CheckResult],
) -> None:
    """Nothing yet: system-generated evidence versions per mapped control come next."""
