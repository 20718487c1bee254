"""Snapshots: system-generated evidence of a figure the app keeps about one subject (the
acceptance rate of a policy, the completion of a training requirement), effective over the
month it covers. This module knows nothing of the subjects. Each app declares its kind once
(``SnapshotKind``: the subject and mapping models, the source key, the builder of what a
snapshot holds), and this module owns the mechanics they share:

* **monthly** (``SnapshotKind.monthly``, run every day by a Celery beat job): for every subject,
  the previous month's snapshot (``start`` = its first day, ``day`` = its last day, the
  figures as of that day), written once: a run that finds the subject's evidence already
  showing that last day (a version of its source, on any of its items, in any review state,
  so a rejected or removed snapshot is not written again) writes nothing. Two runs at once
  (a redelivered task) are serialized by a lock on the subject's row;
* **on demand** (``SnapshotKind.record_now``, a manager's button or API call): month to date
  (``start`` = the first day of this month, ``day`` = today); each call is a new version.

A snapshot never speaks for days before its subject existed (``Snapshot.since``: a policy's
version approved on the 10th makes a snapshot effective from the 10th). Writing one costs a
constant number of queries whatever the number of people behind its figures (the builders use
aggregate selectors; ``system_evidence_record`` is constant in the number of controls).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from controls.models import Control
from evidence.models import EvidenceVersion
from evidence.system import SystemRecord, SystemSource, system_evidence_record
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor
from tenants.context import org_scope
from tenants.models import Membership, Organization
from tenants.permissions import Action


class NothingToRecord(ValidationFailed):
    """The subject has no figure to record on that day (nothing approved or assigned yet, no
    control mapped): the monthly run skips it; on demand, the message says what to do."""

    code = "nothing_to_record"


@dataclass(frozen=True)
class Snapshot:
    source: SystemSource
    controls: Sequence[Control]  # one version on each: the source's item of that control
    data: dict[str, Any]
    object_repr: str  # the activity entry's object
    since: dt.date | None = None  # no evidence for days before this one


# (subject, as-of day) -> its snapshot; raises NothingToRecord.
SnapshotBuilder = Callable[[Any, dt.date], Snapshot]


def mapped_controls(organization: Organization, mapping: models.QuerySet) -> list[Control]:
    """The controls a mapping queryset (rows with a ``control_id``) names (one query)."""
    ids = mapping.values("control_id")
    return list(Control.objects.for_org(organization).filter(pk__in=ids).order_by("code", "pk"))


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of ``day``'s month."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    return month_of(today.replace(day=1) - dt.timedelta(days=1))


def rate_percent(part: int, whole: int) -> float:
    """``part`` of ``whole`` as a percentage with one decimal (0 of 0 is 0)."""
    return round(part * 100 / whole, 1) if whole else 0.0


def snapshot_write(
    *,
    organization: Organization,
    snapshot: Snapshot,
    start: dt.date,
    day: dt.date,
    actor: Actor,
) -> list[EvidenceVersion]:
    """One version per mapped control, effective ``start`` (or ``since``, if later)..``day``."""
    if not snapshot.controls:
        raise NothingToRecord(
            "Map it to a control first: the snapshot is evidence of its controls."
        )
    if snapshot.since is not None and snapshot.since > start:
        start = snapshot.since
    versions = system_evidence_record(
        organization=organization,
        source=snapshot.source,
        records=[SystemRecord(control=c, data=snapshot.data) for c in snapshot.controls],
        day=day,
        start=start,
        actor=actor,
        object_repr=snapshot.object_repr,
    )
    controls = {c.pk: c for c in snapshot.controls}
    for version in versions:  # callers name the controls: no query each
        version.item.control = controls[version.item.control_id]
    return versions


def recorded_message(versions: Sequence[EvidenceVersion]) -> str:
    """What a manager reads after recording a snapshot: where it went, what it says."""
    codes = ", ".join(v.item.control.code for v in versions)
    first = versions[0]
    return (
        f"Recorded as evidence of {codes} for {first.effective_start:%-d %b} to "
        f"{first.effective_end:%-d %b %Y}, accepted automatically."
    )


def shown_last_days(organization: Organization, keys: Iterable[str], day: dt.date) -> set[str]:
    """The source keys among ``keys`` with a version showing ``day`` (one query)."""
    return set(
        EvidenceVersion.objects.for_org(organization)
        .filter(
            item__system_key__in=list(keys),
            effective_start__lte=day,
            effective_end__gte=day,
        )
        .order_by()
        .values_list("item__system_key", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class SnapshotKind:
    """One kind of snapshot, as its app declares it: the subject model and the model mapping
    it to controls (``mapping_field``: the mapping's foreign key to the subject), the source
    key of a subject, the builder, the label the monthly run writes under and the permission
    recording one now needs."""

    model: type[models.Model]
    mapping: type[models.Model]
    mapping_field: str
    key: Callable[[Any], str]
    build: SnapshotBuilder
    system_label: str
    permission: Action

    def controls_of(self, subject: Any) -> list[Control]:
        """The controls ``subject`` supports (one query)."""
        org = subject.organization
        rows = self.mapping.objects.for_org(org).filter(**{self.mapping_field: subject})
        return mapped_controls(org, rows)

    def subjects_of(self, organization: Organization) -> list[Any]:
        """The organization's subjects that support a control (one query)."""
        rows = self.mapping.objects.for_org(organization).filter(
            **{self.mapping_field: OuterRef("pk")}
        )
        subjects = self.model.objects.for_org(organization).filter(Exists(rows))
        return list(subjects.select_related("organization").order_by("pk"))

    def record_now(
        self, *, membership: Membership, subject: Any, today: dt.date | None = None
    ) -> list[EvidenceVersion]:
        """A manager records the month-to-date snapshot of ``subject`` now (raises
        NothingToRecord, or NotPermitted)."""
        permissions.require(membership, self.permission)
        today = today or timezone.localdate()
        return snapshot_write(
            organization=subject.organization,
            snapshot=self.build(subject, today),
            start=month_of(today)[0],
            day=today,
            actor=Actor.for_principal(membership),
        )

    def monthly(self, today: dt.date | None = None) -> int:
        """``snapshots_monthly`` in every organization, each in its own tenant scope."""
        written = 0
        for org in Organization.objects.order_by("pk"):
            with org_scope(org):
                written += snapshots_monthly(
                    organization=org,
                    kind=self,
                    subjects=self.subjects_of(org),
                    today=today or timezone.localdate(),
                )
        return written


def snapshots_monthly(
    *,
    organization: Organization,
    kind: SnapshotKind,
    subjects: Sequence[models.Model],
    today: dt.date,
) -> int:
    """The previous month's snapshot of each subject that has none; how many were written.
    One query to find those done, then per subject written: the lock, the check again, the
    builder's and the writer's queries."""
    first, last = previous_month(today)
    done = shown_last_days(organization, [kind.key(s) for s in subjects], last)
    actor = Actor.system(kind.system_label)
    written = 0
    for subject in subjects:
        if kind.key(subject) in done:
            continue
        with transaction.atomic():
            # A concurrent run of the same job waits here, then finds the snapshot written.
            list(
                kind.model.objects.for_org(organization)
                .select_for_update()
                .filter(pk=subject.pk)
                .values_list("pk", flat=True)
            )
            if shown_last_days(organization, [kind.key(subject)], last):
                continue
            try:
                snapshot = kind.build(subject, last)
                snapshot_write(
                    organization=organization, snapshot=snapshot, start=first, day=last, actor=actor
                )
            except NothingToRecord:
                continue
            written += 1
    return written
