"""Completing checklist items, reopening them, and the evidence (and exceptions) they make.

Rules:
* ``Action.CHECKLIST_ITEM_DONE``: managers mark any item done; contributors only the items
  they own (``owner``). An API key owns nothing, so only managers' keys mark items done.
* The day it was done may be in the past (recorded afterwards), never in the future nor more
  than ``DONE_EARLIEST_DAYS`` before the checklist's date. An item that requires evidence is
  refused without it: a file (checked and scanned as every evidence upload, stored as a new
  version on the item's control by ``evidence.services.evidence_submit_file``, so the
  uploader needs the right to add evidence to that control) or an existing version of the
  item's control.
* Reopening (a mistake) is the managers'; the evidence already written stays (versions are
  append-only; a manager rejects one in the evidence review if it should stop counting).
* An item with a control, once done, writes a system-generated version on that control
  (source ``checklist:<kind>``, accepted when written: the app's own records): the person,
  the item, due and done dates, late or not. Late, it carries a failure ("Offboarding of X:
  'Accounts revoked' done 2026-11-06, due 2026-11-04") and shows its due date, so the Type 2
  period of the due date is an exception for the control; on time it shows the done date.
* ``checklists_record_overdue`` (daily): an item still open after its due date is recorded
  once (``overdue_recorded_at``) as a failing version showing its due date.

Every change writes one activity entry in its transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from evidence.models import EvidenceItem, EvidenceVersion
from evidence.services import evidence_submit_file
from evidence.system import SystemRecord, SystemSource, system_evidence_record
from people import checklist_rules as rules
from people.models_checklists import Checklist, ChecklistItem, ChecklistKind
from soc2app.errors import Conflict, NotPermitted, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action

# A done item's record stays current this long (joiners and leavers are events).
CURRENT_DAYS = 365
SWEEP_BATCH = 500


def checklist_source(kind: str) -> SystemSource:
    label = ChecklistKind(kind).label
    return SystemSource(
        key=f"checklist:{kind}",
        item_title=f"{label} checklists",
        reviewer_label=f"System: {label.lower()} checklists",
        current_days=CURRENT_DAYS,
        own_records=True,
        description=(
            f"Written by the app when an item of a person's {label.lower()} checklist mapped "
            "to this control is done (or still open after its due date): who, what, when it "
            "was due and when it was done. A late item records a failure in the period of "
            "its due date."
        ),
    )


def _evidence(item: ChecklistItem, person_name: str, actor: Actor) -> None:
    """The item's system-generated version on its control (see the module's docstring)."""
    if item.control_id is None:
        return
    kind = item.checklist.kind
    failure = rules.lateness(kind, person_name, item.title, item.due_date, item.done_on)
    day = item.due_date if failure else item.done_on
    data = {
        "checklist": kind,
        "person": person_name,
        "item": item.title,
        "due_date": item.due_date.isoformat(),
        "done_on": item.done_on.isoformat() if item.done_on else None,
        "late": bool(failure),
    }
    system_evidence_record(
        organization=item.checklist.organization,
        source=checklist_source(kind),
        records=[SystemRecord(control=item.control, data=data, failure=failure)],
        day=day,
        actor=actor,
        object_repr=f"{ChecklistKind(kind).label} of {person_name}: {item.title}",
    )


def _may_complete(membership: Any, item: ChecklistItem) -> None:
    permissions.require(membership, Action.CHECKLIST_ITEM_DONE)
    if permissions.can(membership, Action.PEOPLE_MANAGE):
        return
    if getattr(membership, "is_api_key", False) or item.owner_id != membership.pk:
        raise NotPermitted("Only this item's owner or a manager can mark it done.")


def _linked_version(org: Organization, item: ChecklistItem, version_id: int) -> EvidenceVersion:
    version = (
        EvidenceVersion.objects.for_org(org)
        .select_related("item")
        .filter(pk=version_id, item__removed_at__isnull=True)
        .first()
    )
    if version is None or (item.control_id and version.item.control_id != item.control_id):
        raise ValidationFailed(
            "Link a version of this item's control's evidence.", field="evidence_version"
        )
    return version


def checklist_item_done(
    *,
    membership: Membership,
    item: ChecklistItem,
    done_on: dt.date | None,
    note: str = "",
    evidence_file: Any = None,
    evidence_version_id: int | None = None,
    today: dt.date | None = None,
) -> ChecklistItem:
    """Mark ``item`` (with its checklist, person and control loaded) done on ``done_on``."""
    _may_complete(membership, item)
    org = membership.organization
    today = today or timezone.localdate()
    checklist = item.checklist
    if item.done_on is not None:
        raise Conflict(
            f"This item was done on {item.done_on:%-d %b %Y} already: reopen it to change it."
        )
    if problem := rules.done_on_problem(done_on, checklist.anchor_date, today):
        raise ValidationFailed(problem, field="done_on")
    note = (note or "").strip()
    if len(note) > rules.NOTE_MAX:
        raise ValidationFailed(f"Keep the note under {rules.NOTE_MAX} characters.", field="note")
    if evidence_file is not None and evidence_version_id is not None:
        raise ValidationFailed("Attach a file or link a version, not both.", field="evidence")
    if evidence_file is not None and item.control_id is None:
        raise ValidationFailed(
            "This item has no control to file evidence under: link an existing version.",
            field="evidence_file",
        )
    if item.evidence_required and evidence_file is None and evidence_version_id is None:
        raise ValidationFailed(
            "This item requires evidence: attach a file or link an evidence version.",
            field="evidence_file",
        )
    version = _linked_version(org, item, evidence_version_id) if evidence_version_id else None
    actor = Actor.for_principal(membership)
    person = checklist.person
    stored = None
    try:
        with transaction.atomic():
            if evidence_file is not None:
                title = f"{ChecklistKind(checklist.kind).label}: {item.title}"[:200]
                version = evidence_submit_file(
                    membership=membership,
                    control=item.control,
                    upload=evidence_file,
                    effective_start=done_on,
                    # One evidence item per control and checklist step, a version per person.
                    item=EvidenceItem.objects.for_org(org)
                    .filter(
                        control=item.control, title=title, system_key="", removed_at__isnull=True
                    )
                    .first(),
                    title=title,
                )
                stored = version.file.name if version.file else None
            now = timezone.now()
            changed = (
                ChecklistItem.objects.for_org(org)
                .filter(pk=item.pk, done_on__isnull=True)
                .update(
                    done_on=done_on,
                    done_at=now,
                    done_by=getattr(membership, "user", None),
                    done_by_label=actor.label[:200],
                    note=note,
                    evidence=version,
                )
            )
            if not changed:
                raise Conflict("This item was marked done meanwhile: reload the page.")
            item.done_on, item.done_at, item.note, item.evidence = done_on, now, note, version
            item.done_by_label = actor.label[:200]
            _complete_if_all_done(org, checklist, now)
            activity_record(
                organization=org,
                actor=actor,
                action="checklist.item_done",
                target=item,
                object_repr=f"{checklist.get_kind_display()} of {person.full_name}: {item.title}",
                changes={
                    "done_on": [None, done_on.isoformat()],
                    "due_date": [None, item.due_date.isoformat()],
                    "late": [None, item.done_late],
                    **({"note": [None, note]} if note else {}),
                    **({"evidence_version": [None, version.pk]} if version else {}),
                },
            )
            _evidence(item, person.full_name, actor)
    except BaseException:
        if stored:  # nothing half-written: the upload goes with the rolled-back version
            default_storage.delete(stored)
        raise
    return item


def _complete_if_all_done(org: Organization, checklist: Checklist, now: dt.datetime) -> None:
    still_open = ChecklistItem.objects.for_org(org).filter(
        checklist=checklist, done_on__isnull=True
    )
    if not still_open.exists():
        Checklist.objects.for_org(org).filter(pk=checklist.pk).update(completed_at=now)
        checklist.completed_at = now


def checklist_item_reopen(*, membership: Membership, item: ChecklistItem) -> ChecklistItem:
    """Managers only: the item is open again (its evidence stays; see the docstring)."""
    permissions.require(membership, Action.PEOPLE_MANAGE)
    org = membership.organization
    if item.done_on is None:
        raise Conflict("This item is open already.")
    checklist = item.checklist
    before = {"done_on": item.done_on.isoformat(), "done_by": item.done_by_label}
    with transaction.atomic():
        changed = (
            ChecklistItem.objects.for_org(org)
            .filter(pk=item.pk, done_on__isnull=False)
            .update(done_on=None, done_at=None, done_by=None, done_by_label="", evidence=None)
        )
        if not changed:
            raise Conflict("This item was reopened meanwhile: reload the page.")
        Checklist.objects.for_org(org).filter(pk=checklist.pk).update(completed_at=None)
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="checklist.item_reopen",
            target=item,
            object_repr=(
                f"{checklist.get_kind_display()} of {checklist.person.full_name}: {item.title}"
            ),
            changes={key: [value, None] for key, value in before.items()},
        )
    item.done_on = item.done_at = item.done_by = item.evidence = None
    item.done_by_label = ""
    checklist.completed_at = None
    return item


def checklists_record_overdue(org: Organization, *, today: dt.date | None = None) -> int:
    """Record every item still open after its due date, once: a failing version on its
    control. Claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` and a conditional update,
    so two runs never record an item twice. Returns how many were recorded."""
    today = today or timezone.localdate()
    actor = Actor.system("Checklists: daily overdue check")
    recorded = 0
    while True:
        with transaction.atomic():
            batch = list(
                ChecklistItem.objects.for_org(org)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("checklist__person", "checklist__organization", "control")
                .filter(done_on__isnull=True, due_date__lt=today, overdue_recorded_at__isnull=True)
                .order_by("due_date", "pk")[:SWEEP_BATCH]
            )
            if not batch:
                return recorded
            ChecklistItem.objects.for_org(org).filter(
                pk__in=[i.pk for i in batch], overdue_recorded_at__isnull=True
            ).update(overdue_recorded_at=timezone.now())
            for item in batch:
                _evidence(item, item.checklist.person.full_name, actor)
            activity_record(
                organization=org,
                actor=actor,
                action="checklist.overdue",
                object_type="people.checklistitem",
                object_repr=f"{len(batch)} checklist item(s) overdue",
                changes={"items": [None, [i.pk for i in batch]]},
            )
            recorded += len(batch)
