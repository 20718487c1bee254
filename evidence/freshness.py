"""The daily freshness check: mark evidence fresh / expiring / stale, then send digests.

State changes are set-based UPDATEs, never a Python loop over rows. The versions are walked in
keyset batches (by primary key, about ``EVIDENCE_FRESHNESS_BATCH`` rows each), each batch its
own short transaction, so no lock is held for long and a crash loses at most one batch. Every
UPDATE excludes the rows already in its target state, so a second run changes nothing.

``freshness_check`` is what both the ``check_freshness`` command and the Celery task run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.utils import timezone

from evidence.models import EvidenceVersion, Freshness
from evidence.notifications import digests_send, organizations_to_notify
from evidence.selectors import live_versions
from tenants.context import org_scope
from tenants.models import Organization

logger = logging.getLogger(__name__)


@dataclass
class OrgChanges:
    """What one run changed in one organization."""

    slug: str
    stale: int = 0
    expiring: int = 0
    fresh: int = 0
    digests: int = 0

    @property
    def changed(self) -> int:
        return self.stale + self.expiring + self.fresh

    def line(self) -> str:
        digests = f"{self.digests} digest{'s' if self.digests != 1 else ''} sent"
        parts = [f"{self.stale} stale", f"{self.expiring} expiring"]
        if self.fresh:
            parts.append(f"{self.fresh} current again")
        return f"{self.slug}: {', '.join(parts)}, {digests}"


@dataclass
class FreshnessRun:
    today: dt.date
    organizations: dict[str, OrgChanges] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(o.changed for o in self.organizations.values())

    @property
    def digests(self) -> int:
        return sum(o.digests for o in self.organizations.values())

    def as_dict(self) -> dict:
        """JSON-ready, for the Celery result and logs."""
        return {
            "today": self.today.isoformat(),
            "changed": self.changed,
            "digests": self.digests,
            "organizations": {
                slug: {
                    "stale": o.stale,
                    "expiring": o.expiring,
                    "fresh": o.fresh,
                    "digests": o.digests,
                }
                for slug, o in self.organizations.items()
            },
        }


def state_conditions(today: dt.date) -> dict[str, Q]:
    """valid_until against today, exactly as ``evidence.services.freshness_of`` decides."""
    soon = today + dt.timedelta(days=settings.EVIDENCE_EXPIRING_DAYS)
    return {
        Freshness.STALE: Q(valid_until__lt=today),
        Freshness.EXPIRING: Q(valid_until__gte=today, valid_until__lt=soon),
        Freshness.FRESH: Q(valid_until__gte=soon),
    }


def _scope(organization: Organization | None) -> QuerySet[EvidenceVersion]:
    if organization is not None:
        return EvidenceVersion.objects.for_org(organization)
    return EvidenceVersion.objects.dangerously_unscoped(
        reason="daily freshness check across all organizations"
    )


def _update_batch(
    rows: QuerySet[EvidenceVersion], today: dt.date, now: dt.datetime
) -> dict[tuple[int, str], int]:
    """One guarded UPDATE over one batch; returns {(organization_id, state): rows changed}."""
    soon = today + dt.timedelta(days=settings.EVIDENCE_EXPIRING_DAYS)
    conditions = state_conditions(today)
    target = Case(
        When(conditions[Freshness.STALE], then=Value(Freshness.STALE.value)),
        When(conditions[Freshness.EXPIRING], then=Value(Freshness.EXPIRING.value)),
        default=Value(Freshness.FRESH.value),
        output_field=CharField(),
    )
    # The guard: rows already in their target state are not touched, so a rerun changes 0.
    changed = rows.exclude(freshness=target).update(
        freshness=target,
        freshness_changed_at=now,
        # Current again (a longer expiring window, say): a later expiry is news again.
        notified_freshness=Case(
            When(valid_until__gte=soon, then=Value(Freshness.FRESH.value)),
            default=F("notified_freshness"),
        ),
    )
    if not changed:
        return {}
    # Which organizations: one grouped read of this batch's rows stamped by this run.
    grouped = (
        rows.filter(freshness_changed_at=now)
        .order_by()
        .values_list("organization_id", "freshness")
        .annotate(n=Count("pk"))
    )
    return {(org_id, state): n for org_id, state, n in grouped}


def freshness_update(
    *, organization: Organization | None = None, today: dt.date | None = None
) -> dict[int, dict[str, int]]:
    """Bring the freshness of every live item's latest version up to date.

    Returns {organization_id: {state: rows moved into it}}. Idempotent.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    batch = settings.EVIDENCE_FRESHNESS_BATCH
    scope = _scope(organization)
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    last = 0
    while True:
        window = scope.filter(pk__gt=last)
        # Keyset pagination: the primary key of the batch's last row bounds it.
        upper = next(
            iter(window.order_by("pk").values_list("pk", flat=True)[batch - 1 : batch]), None
        )
        rows = window if upper is None else window.filter(pk__lte=upper)
        with transaction.atomic():
            for (org_id, state), n in _update_batch(live_versions(rows), today, now).items():
                totals[org_id][state] += n
        if upper is None:
            break
        last = upper
    return {org_id: dict(states) for org_id, states in totals.items()}


def freshness_check(
    *, organization: Organization | None = None, today: dt.date | None = None
) -> FreshnessRun:
    """Update states, then send each owner one digest per organization of what changed.

    Without ``organization``, every organization: the scan is one system-wide pass, the
    digests are sent organization by organization under ``org_scope``.
    """
    today = today or timezone.localdate()
    run = FreshnessRun(today=today)
    changes = freshness_update(organization=organization, today=today)
    orgs = [organization] if organization is not None else organizations_to_notify(changes)
    for org in sorted(orgs, key=lambda o: o.slug):
        with org_scope(org):
            digests = digests_send(organization=org)
        states = changes.get(org.pk, {})
        result = OrgChanges(
            slug=org.slug,
            stale=states.get(Freshness.STALE, 0),
            expiring=states.get(Freshness.EXPIRING, 0),
            fresh=states.get(Freshness.FRESH, 0),
            digests=digests,
        )
        if result.changed or result.digests or organization is not None:
            run.organizations[org.slug] = result
    logger.info("freshness check %s: %s", today, run.as_dict())
    return run
