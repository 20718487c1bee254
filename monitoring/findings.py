"""Due dates of findings, by severity, from editable data (``monitoring/data/finding_due.yaml``)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import yaml

from monitoring.models import Severity

DATA_FILE = Path(__file__).parent / "data" / "finding_due.yaml"
DEFAULT_DAYS = 90


@functools.cache
def due_days() -> dict[str, int]:
    """Days to fix a finding, per severity: read once per process."""
    with DATA_FILE.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return {severity: int(raw.get(severity, DEFAULT_DAYS)) for severity in Severity.values}


def due_date(severity: str, opened: dt.date) -> dt.date:
    return opened + dt.timedelta(days=due_days().get(severity, DEFAULT_DAYS))
