"""Findings' due dates, by severity, from editable data (``monitoring/data/finding_due.yaml``),
and their owner, who follows the owner of the control that owns them."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import yaml

from monitoring.models import CheckControl, Finding, FindingState, Severity
from tenants.activity import Actor, activity_record

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


def findings_follow_owner(*, control: object, actor: Actor) -> int:
    """Hand the open findings of the checks whose first control is ``control`` (the control
    whose owner owns them) to its current owner, in one UPDATE, and log it; returns how many
    changed. Called by ``controls.services.control_update`` in its transaction when the owner
    changes; closed findings keep the owner they had."""
    org = control.organization_id
    owned = CheckControl.objects.for_org(org).filter(control=control, position=0)
    findings = Finding.objects.for_org(org).filter(
        state=FindingState.OPEN, check_ref_id__in=owned.values("check_ref_id")
    )
    if control.owner_id is None:
        findings = findings.filter(owner__isnull=False)
    else:
        findings = findings.exclude(owner_id=control.owner_id)
    changed = findings.update(owner_id=control.owner_id)
    if changed:
        activity_record(
            organization=control.organization,
            actor=actor,
            action="reassign",
            object_type="monitoring.finding",
            object_repr=f"open findings of {control.code}"[:200],
            changes={"owner": [None, control.owner_id], "findings": [None, changed]},
        )
    return changed
