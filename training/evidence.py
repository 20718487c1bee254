"""Training as evidence by itself: the completion figures of a requirement, recorded on the
controls it supports (``TrainingControl``) as system-generated versions accepted when written
(the app's own immutable records; ``evidence.system``), so readiness counts them without an
upload.

A snapshot (source ``training:<id>``, item "Training: <title>") holds, as of the end of the
day it is taken, the people the requirement covers that day (assigned), how many had
completed their current cycle (a completion recorded by then and not overdue), how many were
overdue, and the rate (no names: the requirement's page and export have them). Monthly for
the previous month and on demand for the month to date (``evidence.snapshots``); a
requirement covering nobody or mapped to no control has none.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from evidence.models import EvidenceVersion
from evidence.snapshots import NothingToRecord, Snapshot, SnapshotKind, rate_percent
from evidence.system import SystemSource
from tenants.models import Membership
from training import selectors
from training.models import TrainingControl, TrainingRequirement
from training.services import MANAGE

REVIEWER = "Training: completion recorded by the app"


def training_key(req: TrainingRequirement) -> str:
    return f"training:{req.pk}"


def completion_snapshot(req: TrainingRequirement, day: dt.date) -> Snapshot:
    """The requirement's completion figures as of the end of ``day`` (four queries, whatever
    the number of people: controls, assignments, people, last completions)."""
    org = req.organization
    controls = COMPLETION.controls_of(req)
    if not controls:
        raise NothingToRecord(
            "This training supports no control: its completion is evidence of none."
        )
    since = timezone.localdate(req.created_at)
    rows = selectors.statuses(org, day, [req])[req.pk] if since <= day else []
    if not rows:
        raise NothingToRecord("The training covers nobody yet: assign it first.")
    assigned = len(rows)
    completed = sum(1 for r in rows if r.current)
    overdue = sum(1 for r in rows if r.overdue)
    data = {
        "source": "training",
        "requirement": {"id": req.pk, "title": req.title},
        "as_of": day.isoformat(),
        "assigned": assigned,
        "completed_in_cycle": completed,
        "overdue": overdue,
        "rate_percent": rate_percent(completed, assigned),
    }
    source = SystemSource(
        key=training_key(req),
        item_title=f"Training: {req.title}",
        reviewer_label=REVIEWER,
        # A month's snapshot stays current through the next month, when the next is taken.
        current_days=31,
        own_records=True,
        description=(
            "Written by the app every month for the month before, and when a manager records "
            "it: how many of the people assigned this training had completed it, and how "
            "many were overdue."
        ),
    )
    return Snapshot(
        source=source,
        controls=controls,
        data=data,
        object_repr=f"{req.title}: {completed} of {assigned} completed, {overdue} overdue",
        since=since,
    )


COMPLETION = SnapshotKind(
    model=TrainingRequirement,
    mapping=TrainingControl,
    mapping_field="requirement",
    key=training_key,
    build=completion_snapshot,
    system_label=REVIEWER,
    permission=MANAGE,
)


def completion_snapshot_record(
    *, membership: Membership, requirement: TrainingRequirement, today: dt.date | None = None
) -> list[EvidenceVersion]:
    """A manager records the month-to-date completion figures as evidence now."""
    return COMPLETION.record_now(membership=membership, subject=requirement, today=today)


def completion_snapshots_monthly(today: dt.date | None = None) -> int:
    """Every organization's requirements: the previous month's snapshot where it is missing."""
    return COMPLETION.monthly(today)
