"""The daily freshness check: mark evidence fresh / expiring / stale, then send digests.

State changes are set-based UPDATEs, never a Python loop over rows. Only the latest version
of each item counts; the scan walks those (the ``is_latest`` flag) in keyset batches (by
primary key, about ``EVIDENCE_FRESHNESS_BATCH`` rows each), each batch one UPDATE in its own
short transaction that also reports what it changed, so no lock is held for long and a crash
loses at most one batch. Every UPDATE excludes the rows already in its target state, so a
second run changes nothing.

``freshness_check`` is what both the ``check_freshness`` command and the Celery task run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone

from evidence.models import EvidenceVersion, Freshness
from evidence.notifications import digests_send, organizations_to_notify
from soc2app.metrics import FRESHNESS_CHANGES, FRESHNESS_SECONDS
from tenants import rls
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
    # Other sections' news told in the digests, by heading ("Vendor documents gone stale": 2).
    told: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.stale + self.expiring + self.fresh

    def line(self) -> str:
        digests = f"{self.digests} digest{'s' if self.digests != 1 else ''} sent"
        parts = [f"{self.stale} stale", f"{self.expiring} expiring"]
        if self.fresh:
            parts.append(f"{self.fresh} current again")
        parts += [f"{heading.lower()}: {n}" for heading, n in sorted(self.told.items())]
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
                    **({"told": dict(o.told)} if o.told else {}),
                }
                for slug, o in self.organizations.items()
            },
        }


def _scope(organization: Organization | None) -> QuerySet[EvidenceVersion]:
    if organization is not None:
        return EvidenceVersion.objects.for_org(organization)
    return EvidenceVersion.objects.dangerously_unscoped(
        reason="daily freshness check across all organizations"
    )


# One guarded UPDATE over the latest versions of live items in one primary-key window.
# The guard (``freshness <>`` its target) leaves rows already in their state untouched, so a
# rerun changes 0 rows. NOT EXISTS over the few removed items (a partial index) rather than a
# join keeps it a single-table UPDATE: under concurrent updates its WHERE clause is re-checked
# on the locked row. Items and their versions always share an organization (the services).
_TARGET = (
    "CASE WHEN v.valid_until < %(today)s THEN 'stale' "
    "WHEN v.valid_until < %(soon)s THEN 'expiring' ELSE 'fresh' END"
)
_UPDATE = f"""
    UPDATE evidence_evidenceversion AS v SET
        freshness = {_TARGET},
        freshness_changed_at = %(now)s,
        -- current again (a longer expiring window, say): a later expiry is news again
        notified_freshness = CASE WHEN v.valid_until >= %(soon)s THEN 'fresh'
                                  ELSE v.notified_freshness END
    WHERE v.is_latest AND v.id > %(after)s AND v.id <= %(upto)s {{org}}
      AND v.freshness <> {_TARGET}
      AND NOT EXISTS (SELECT 1 FROM evidence_evidenceitem AS i
                      WHERE i.id = v.item_id AND i.removed_at IS NOT NULL)
    RETURNING organization_id, freshness
"""  # noqa: S608 (no user input: the only substitution is the fixed organization filter)


def _update_sql(organization: Organization | None, vendor: str) -> str:
    sql = _UPDATE.format(org="AND v.organization_id = %(org)s" if organization else "")
    if vendor == "postgresql":
        # Counted in the same statement: a few rows per batch come back, not one per change.
        grouped = "SELECT organization_id, freshness, count(*) FROM changed GROUP BY 1, 2"
        return f"WITH changed AS ({sql}) {grouped}"  # noqa: S608
    return sql  # SQLite (3.35+) has RETURNING, but not in a WITH clause: counted below


def _update_batch(using: str, sql: str, params: dict) -> Counter[tuple[int, str]]:
    """Run one batch's UPDATE; returns {(organization_id, state): rows changed}."""
    counts: Counter[tuple[int, str]] = Counter()
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            counts[(row[0], row[1])] += row[2] if len(row) > 2 else 1
    return counts


def freshness_update(
    *, organization: Organization | None = None, today: dt.date | None = None
) -> dict[int, dict[str, int]]:
    # Raw SQL under row-level security: one organization's scope on the default connection,
    # or every organization's on the system connection (a worker or command only).
    if organization is not None:
        with org_scope(organization):
            return _freshness_update(DEFAULT_DB_ALIAS, organization=organization, today=today)
    with rls.system("freshness scan, all orgs") as system:
        return _freshness_update(system.alias, organization=None, today=today)


def _freshness_update(
    using: str, *, organization: Organization | None = None, today: dt.date | None = None
) -> dict[int, dict[str, int]]:
    """Bring the freshness of every live item's latest version up to date.

    Walks the latest versions (``is_latest``, a partial index on the primary key) in keyset
    batches of ``EVIDENCE_FRESHNESS_BATCH`` rows, one short transaction and one UPDATE each.
    Returns {organization_id: {state: rows moved into it}}. Idempotent.
    """
    today = today or timezone.localdate()
    params = {
        "today": today,
        "soon": today + dt.timedelta(days=settings.EVIDENCE_EXPIRING_DAYS),
        "now": timezone.now(),
        "org": organization.pk if organization else None,
    }
    batch = settings.EVIDENCE_FRESHNESS_BATCH
    latest = _scope(organization).filter(is_latest=True).order_by("pk")
    sql = _update_sql(organization, connections[using].vendor)
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    last = 0
    while True:
        # Keyset pagination: the primary key of the batch's last row bounds it.
        upper = next(
            iter(latest.filter(pk__gt=last).values_list("pk", flat=True)[batch - 1 : batch]),
            None,
        )
        with transaction.atomic(using=using):
            changed = _update_batch(
                using, sql, {**params, "after": last, "upto": upper or 2**63 - 1}
            )
        for (org_id, state), n in changed.items():
            totals[org_id][state] += n
        if upper is None:
            break
        last = upper
    return {org_id: dict(states) for org_id, states in totals.items()}


def _emit_webhooks(org: Organization, result: OrgChanges, today: dt.date) -> None:
    """One ``evidence.stale`` / ``evidence.expiring`` event per organization and run, with
    the counts; subscribers fetch the details from the API."""
    from tenants.webhooks.services import webhooks_emit

    for event, count in (("evidence.stale", result.stale), ("evidence.expiring", result.expiring)):
        if count:
            webhooks_emit(
                organization=org,
                event=event,
                payload={"organization": org.slug, "date": today.isoformat(), "versions": count},
            )


def freshness_check(
    *, organization: Organization | None = None, today: dt.date | None = None
) -> FreshnessRun:
    """Update states, then send each owner one digest per organization of what changed.

    Without ``organization``, every organization: the scan is one system-wide pass, the
    digests are sent organization by organization under ``org_scope``.
    """
    today = today or timezone.localdate()
    run = FreshnessRun(today=today)
    with FRESHNESS_SECONDS.time():
        _check(run, organization, today)
    return run


def _check(run: FreshnessRun, organization: Organization | None, today: dt.date) -> None:
    changes = freshness_update(organization=organization, today=today)
    for states in changes.values():
        for state, count in states.items():
            FRESHNESS_CHANGES.labels(state).inc(count)
    orgs = [organization] if organization is not None else organizations_to_notify(changes)
    for org in sorted(orgs, key=lambda o: o.slug):
        told: dict[str, int] = {}
        with org_scope(org):
            # The same pass tells the dated sections' news (vendor documents gone stale, risk
            # reviews overdue...): computed from the dates as of ``today``.
            digests = digests_send(organization=org, today=today, told=told)
        states = changes.get(org.pk, {})
        result = OrgChanges(
            slug=org.slug,
            stale=states.get(Freshness.STALE, 0),
            expiring=states.get(Freshness.EXPIRING, 0),
            fresh=states.get(Freshness.FRESH, 0),
            digests=digests,
            told=told,
        )
        _emit_webhooks(org, result, today)
        if result.changed or result.digests or told or organization is not None:
            run.organizations[org.slug] = result
    logger.info("freshness check %s: %s", today, run.as_dict())
