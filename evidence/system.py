"""System-generated evidence: versions a system writes for the controls it tests.

The one writer of evidence versions of kind *system-generated* (DESIGN.md: integrations write
evidence like any upload, through the evidence services). A source (``system_key``, e.g. the
runs of one monitoring connection) has one live item per control, created on first need;
each write adds one new version to each of them, never replacing one (two runs the same day
are two versions).

**Automatic acceptance.** A version is accepted when it is written, with the source recorded
as its reviewer (``reviewed_by_label``, e.g. "Integration: AWS production"), if and only if
the raw output it summarizes was stored (its SHA-256 and size are on the version), or the
source is *the app's own records* (``SystemSource.own_records``: policy approvals, acceptance
rates, training and checklist completion, which the app itself keeps immutable). Otherwise it
waits for a person's review, like an upload. Either way it is reviewable afterwards like any
version: a manager may reject it (it then stops counting) or accept it.

**Effective range.** A version shows ``day`` (a run) or a range ending on it (``start``: a
monthly snapshot of acceptance covers its month).

Writing for any number of controls takes a constant number of queries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from controls.models import Control
from evidence.models import EvidenceItem, EvidenceKind, EvidenceVersion, ReviewState
from evidence.services import canonical_json, freshness_of
from tenants.activity import Actor, activity_record
from tenants.models import Organization


@dataclass(frozen=True)
class SystemRecord:
    """What a source reports about one control: the summary and, if something failed, what
    (a sentence; blank when nothing failed)."""

    control: Control
    data: dict[str, Any]
    failure: str = ""


@dataclass(frozen=True)
class SystemSource:
    key: str  # ``EvidenceItem.system_key``: "monitoring:<connection id>"
    item_title: str  # "Automated tests: <connection>"
    reviewer_label: str  # "Integration: <connection>"
    # How many days the evidence stays current (fresh) after the day it shows: a daily
    # source's evidence goes "expiring" two days after its last write, then stale.
    current_days: int
    # The app's own immutable records (not an outside system's output): accepted when written.
    own_records: bool = False
    # The evidence item's description (shown on the control's evidence page).
    description: str = (
        "Written by the system after each run: the summary of the control's tests, "
        "accepted automatically when the run's raw output is stored."
    )


def current_until(day: dt.date, current_days: int) -> dt.date:
    """``valid_until`` of evidence showing ``day``: fresh for ``current_days`` days, then
    expiring for ``EVIDENCE_EXPIRING_DAYS`` (the freshness check's window), then stale."""
    return day + dt.timedelta(days=current_days + settings.EVIDENCE_EXPIRING_DAYS)


def system_evidence_record(
    *,
    organization: Organization,
    source: SystemSource,
    records: Sequence[SystemRecord],
    day: dt.date,
    actor: Actor,
    raw_sha256: str = "",
    raw_size: int = 0,
    raw_storage_name: str = "",
    object_repr: str = "",
    start: dt.date | None = None,
) -> list[EvidenceVersion]:
    """One new version per record, on the source's item for its control, effective ``day``
    (or ``start``..``day``). ``raw_sha256``, ``raw_size``, ``raw_storage_name``: the raw output
    the records summarize, already stored by the source.

    Seven queries whatever the number of records (items, new items, the lock, numbers,
    the latest flags, the versions), plus the one activity entry."""
    org = organization
    if not records:
        return []
    now = timezone.now()
    control_ids = [r.control.pk for r in records]
    with transaction.atomic():
        items = _items_for(org, source, records, now)
        # Lock the items: a person adding a version to one of them gets the next number.
        list(
            EvidenceItem.objects.for_org(org)
            .select_for_update()
            .filter(pk__in=[i.pk for i in items.values()])
            .values_list("pk", flat=True)
        )
        last = dict(
            EvidenceVersion.objects.for_org(org)
            .filter(item_id__in=[i.pk for i in items.values()])
            .order_by()
            .values_list("item_id")
            .annotate(n=Max("number"))
        )
        # The new versions become their items' latest (what ``EvidenceVersion.save`` does one
        # row at a time), under the lock above.
        EvidenceVersion.objects.for_org(org).filter(
            item_id__in=[i.pk for i in items.values()], is_latest=True
        ).update(is_latest=False)
        valid_until = current_until(day, source.current_days)
        freshness = freshness_of(valid_until, timezone.localdate())
        accepted = bool(raw_sha256) or source.own_records
        if raw_sha256:
            why = "the run finished and its raw output is stored (SHA-256 above)."
        else:
            why = "recorded by the app from its own immutable records."
        versions = []
        for record in records:
            item = items[record.control.pk]
            raw = canonical_json(record.data)
            versions.append(
                EvidenceVersion(
                    organization=org,
                    item=item,
                    number=last.get(item.pk, 0) + 1,
                    kind=EvidenceKind.SYSTEM,
                    data=record.data,
                    # The raw output, stored once by the source and shared by its versions
                    # (packages pack it: the SHA-256 is of these bytes).
                    file=raw_storage_name if raw_sha256 else "",
                    failure=record.failure[:500],
                    content_type="application/json",
                    sha256=raw_sha256 or hashlib.sha256(raw).hexdigest(),
                    size=raw_size if raw_sha256 else len(raw),
                    effective_start=min(start or day, day),
                    effective_end=day,
                    valid_until=valid_until,
                    uploaded_by_id=actor.user_id,
                    uploaded_by_label=actor.label[:200],
                    uploaded_at=now,
                    freshness=freshness,
                    notified_freshness=freshness,
                    is_latest=True,
                    review_state=ReviewState.ACCEPTED if accepted else ReviewState.PENDING,
                    reviewed_by_label=source.reviewer_label[:200] if accepted else "",
                    reviewed_at=now if accepted else None,
                    review_comment=f"Accepted automatically: {why}" if accepted else "",
                )
            )
        EvidenceVersion.objects.bulk_create(versions)
        activity_record(
            organization=org,
            actor=actor,
            action="add",
            object_type="evidence.evidenceversion",
            object_repr=(object_repr or source.item_title)[:200],
            changes={
                "kind": [None, EvidenceKind.SYSTEM.value],
                "controls": [None, len(control_ids)],
                "effective": [None, day.isoformat()],
                "sha256": [None, raw_sha256 or None],
                "review_state": [None, "accepted" if accepted else "pending"],
            },
        )
    return versions


def _items_for(
    org: Organization, source: SystemSource, records: Sequence[SystemRecord], now: dt.datetime
) -> dict[int, EvidenceItem]:
    """The source's live item of each record's control, created when missing (two queries,
    three when some are new)."""
    wanted = {r.control.pk: r.control for r in records}
    live = EvidenceItem.objects.for_org(org).filter(
        system_key=source.key, control_id__in=list(wanted), removed_at__isnull=True
    )
    items = {i.control_id: i for i in live}
    new = [
        EvidenceItem(
            organization=org,
            control=control,
            title=source.item_title[:200],
            description=source.description,
            system_key=source.key,
            created_at=now,
        )
        for pk, control in wanted.items()
        if pk not in items
    ]
    if new:
        EvidenceItem.objects.bulk_create(new)
        if any(i.pk is None for i in new):  # a backend that does not return ids
            items.update({i.control_id: i for i in live.all()})
        else:
            items.update({i.control_id: i for i in new})
    return items
