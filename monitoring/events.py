"""Monitoring's webhook events, sent through the transactional outbox of ``tenants.webhooks``
(deliveries written in the transaction of the change, sent after it commits):

* ``check.failed``: a check went from passing (or new) to failing in a run;
* ``check.recovered``: a failing check passes again (its last open finding closed);
* ``finding.overdue``: open findings passed their due date (the daily sweep,
  ``overdue_sweep``; each finding is announced once: ``Finding.overdue_notified_at``).

Payloads name the check, its connection (id, name, kind: never its credentials or settings),
the resources and findings concerned (at most ``MAX_LISTED`` each, with the full count), the
owner's e-mail (the person who must act: receivers open tickets for them) and links to the page
and the API. Result details are not sent: they are whatever a collector reported about a
resource and may hold configuration values.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Check, CheckResult, Connection, Finding, FindingState, ResultStatus
from soc2app.task_options import rerunnable
from tenants.activity import Actor, activity_record
from tenants.context import org_scope
from tenants.models import Membership, Organization

logger = logging.getLogger(__name__)

MAX_LISTED = 50  # resources and findings named in one event; the counts are always whole


def _links(org: Organization, check: Check) -> dict[str, str]:
    kwargs = {"org_slug": org.slug, "pk": check.pk}
    return {
        "url": settings.SITE_URL + reverse("monitoring_check", kwargs=kwargs),
        "api_url": settings.SITE_URL + f"/api/v1/orgs/{org.slug}/monitoring/checks/{check.pk}/",
    }


def check_payload(
    org: Organization, check: Check, connection: Connection, owner_email: str | None
) -> dict[str, Any]:
    """What every monitoring event says about its check."""
    return {
        "organization": org.slug,
        "check": {
            "id": check.pk,
            "key": check.key,
            "title": check.title,
            "severity": check.severity,
            "criteria": list(check.criteria or []),
            **_links(org, check),
        },
        "connection": {
            "id": connection.pk,
            "name": connection.name,
            "kind": connection.kind,
        },
        "owner": {"email": owner_email} if owner_email else None,
    }


def _owner_emails(org: Organization, owner_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in owner_ids if i is not None}
    if not ids:
        return {}
    rows = Membership.objects.for_org(org).filter(pk__in=ids).values_list("pk", "user__email")
    return dict(rows)


def check_transitions(
    *,
    org: Organization,
    run_id: int,
    connection: Connection,
    checks: Sequence[Check],
    was_failing: dict[int, bool],
    owner_of: dict[int, int | None],
    rows: Sequence[CheckResult],
    finding_of: dict[tuple[int, str], int],
    closed: dict[tuple[int, str], int],
    now: dt.datetime,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The ``check.failed`` / ``check.recovered`` events of one ingestion: checks whose
    ``failing`` differs from ``was_failing``. A generator: its one query (the owners' e-mails)
    runs only when a check changed and an endpoint is there to hear of it."""
    changed = [c for c in checks if c.failing != was_failing.get(c.pk, False)]
    if not changed:
        return
    emails = _owner_emails(org, (owner_of.get(c.pk) for c in changed))
    by_check: dict[int, list[CheckResult]] = {}
    for row in rows:
        by_check.setdefault(row.check_ref_id, []).append(row)
    for check in changed:
        payload = check_payload(org, check, connection, emails.get(owner_of.get(check.pk)))
        payload["run"] = run_id
        payload["at"] = now.isoformat()
        if check.failing:
            failed = [
                r.resource_id for r in by_check.get(check.pk, []) if r.status == ResultStatus.FAIL
            ]
            ids = [finding_of[(check.pk, r)] for r in failed if (check.pk, r) in finding_of]
            payload["resources_failing"] = failed[:MAX_LISTED]
            payload["resources_failing_count"] = len(failed)
            payload["findings"] = ids[:MAX_LISTED]
            yield "check.failed", payload
        else:
            passed = [
                r.resource_id for r in by_check.get(check.pk, []) if r.status == ResultStatus.PASS
            ]
            ids = [closed[(check.pk, r)] for r in passed if (check.pk, r) in closed]
            payload["resources_passing_count"] = len(passed)
            payload["findings_closed"] = ids[:MAX_LISTED]
            yield "check.recovered", payload


def emit(org: Organization, events: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Record the deliveries in the caller's transaction: one query for the endpoints, and
    ``events`` is not even read when the organization has none."""
    from tenants.webhooks.services import webhooks_emit_many

    webhooks_emit_many(organization=org, events=events)


# --- the daily sweep of overdue findings -------------------------------------------------------


def organizations_with_overdue(today: dt.date) -> list[Organization]:
    """Organizations holding an open finding past its due date not announced yet."""
    ids = (
        Finding.objects.dangerously_unscoped(reason="overdue sweep: organizations to visit")
        .filter(state=FindingState.OPEN, due_date__lt=today, overdue_notified_at__isnull=True)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    return list(Organization.objects.filter(pk__in=set(ids)).order_by("slug"))


def _overdue_events(
    org: Organization, findings: list[Finding], today: dt.date
) -> Iterator[tuple[str, dict[str, Any]]]:
    """One ``finding.overdue`` per check, listing its findings that went overdue."""
    by_check: dict[int, list[Finding]] = {}
    for finding in findings:
        by_check.setdefault(finding.check_ref_id, []).append(finding)
    for group in by_check.values():
        check = group[0].check_ref
        first_owner = group[0].owner
        email = first_owner.user.email if first_owner else None
        payload = check_payload(org, check, check.connection, email)
        payload["date"] = today.isoformat()
        payload["findings_count"] = len(group)
        payload["findings"] = [
            {
                "id": f.pk,
                "resource": f.resource_id,
                "severity": f.severity,
                "opened_at": f.opened_at.isoformat(),
                "due_date": f.due_date.isoformat(),
                "regression": f.regression,
                "owner_email": f.owner.user.email if f.owner else None,
            }
            for f in group[:MAX_LISTED]
        ]
        yield "finding.overdue", payload


def findings_overdue_notify(*, organization: Organization, today: dt.date) -> int:
    """Mark the organization's open findings past their due date as announced and send one
    ``finding.overdue`` per check, in one transaction: a conditional UPDATE claims them
    (``overdue_notified_at IS NULL``, re-checked on each locked row), so a second or concurrent
    sweep announces nothing twice. Returns the findings announced."""
    org = organization
    now = timezone.now()
    with transaction.atomic():
        scope = Finding.objects.for_org(org)
        claimed = scope.filter(
            state=FindingState.OPEN, due_date__lt=today, overdue_notified_at__isnull=True
        ).update(overdue_notified_at=now)
        if not claimed:
            return 0
        findings = list(
            scope.filter(overdue_notified_at=now)
            .select_related("check_ref__connection", "owner__user")
            .order_by("check_ref_id", "due_date", "pk")
        )
        emit(org, list(_overdue_events(org, findings, today)))
        activity_record(
            organization=org,
            actor=Actor.system("overdue findings sweep"),
            action="notify",
            object_type="monitoring.finding",
            object_repr=f"{claimed} findings overdue",
            changes={"overdue": [None, claimed]},
        )
    return claimed


def overdue_sweep(*, today: dt.date | None = None) -> dict[str, int]:
    """Every organization's newly overdue findings (the daily beat job); per slug, how many."""
    today = today or timezone.localdate()
    done = {}
    for org in organizations_with_overdue(today):
        with org_scope(org):
            done[org.slug] = findings_overdue_notify(organization=org, today=today)
    logger.info("overdue findings sweep %s: %s", today, done)
    return done


@shared_task(
    name="monitoring.sweep_overdue_findings",
    **rerunnable(soft_time_limit=10 * 60, time_limit=12 * 60),
)
def sweep_overdue_findings() -> dict[str, int]:
    """Celery beat, daily before the digests: announce findings that became overdue."""
    return overdue_sweep()
