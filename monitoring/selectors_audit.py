"""Monitoring as an auditor sees it (the auditor portal and its API): the tests of the controls
in an audit's scope, and each test's findings *during the audit's period* (a Type 1's as-of
date, a Type 2's observation window): a finding counts when it was open at some point of the
period (opened on or before its last day, and not closed before its first day).

Read-only and organization-scoped; what an audit's scope is (``control_ids``) is the caller's
(``reports.selectors.audit_scope_controls``). Nothing here reads a connection's credentials
or settings.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet, Subquery

from monitoring.models import Check, CheckControl, CheckResult, Finding, FindingState
from monitoring.selectors import SEVERITY_ORDER
from soc2app.errors import NotFound


def audit_period(audit: object) -> tuple[dt.date, dt.date]:
    """First and last day of the period an audit looks at."""
    if audit.is_type2:
        return audit.window_start, audit.window_end
    return audit.as_of_date, audit.as_of_date


def _during(period: tuple[dt.date, dt.date], prefix: str = "") -> Q:
    start, end = period
    return Q(**{f"{prefix}opened_at__date__lte": end}) & (
        Q(**{f"{prefix}closed_at__isnull": True}) | Q(**{f"{prefix}closed_at__date__gte": start})
    )


def audit_checks(audit: object, control_ids: QuerySet) -> QuerySet[Check]:
    """The tests of ``control_ids`` (the audit's scope), failing first, then by severity, with
    their findings during the period (all, still open, regressions) and the connection's name
    and kind: one query."""
    org = audit.organization_id
    tested = CheckControl.objects.for_org(org).filter(control_id__in=control_ids)
    during = _during(audit_period(audit), "findings__")
    return (
        Check.objects.for_org(org)
        .filter(pk__in=tested.values("check_ref_id"))
        .select_related("connection")
        .only(
            *("key", "title", "severity", "criteria", "failing", "last_run_at", "organization"),
            *("connection__name", "connection__kind"),  # never its credentials or settings
        )
        .annotate(
            severity_rank=SEVERITY_ORDER,
            findings_in_period=Count("findings", filter=during),
            open_findings=Count("findings", filter=Q(findings__state=FindingState.OPEN)),
            regressions_in_period=Count("findings", filter=during & Q(findings__regression=True)),
        )
        .order_by("-failing", "severity_rank", "key", "id")
    )


def audit_check_controls(
    audit: object, control_ids: QuerySet, checks: list[Check]
) -> dict[int, list]:
    """Per check, the controls in scope it tests (in their order): one query."""
    links = (
        CheckControl.objects.for_org(audit.organization_id)
        .filter(check_ref__in=checks, control_id__in=control_ids)
        .select_related("control")
        .only("check_ref", "control__code", "control__title")
        .order_by("position", "id")
    )
    found: dict[int, list] = {c.pk: [] for c in checks}
    for link in links:
        found[link.check_ref_id].append(link.control)
    return found


def audit_check_get(audit: object, control_ids: QuerySet, pk: int) -> Check:
    found = audit_checks(audit, control_ids).filter(pk=pk).first() if 0 < pk < 2**63 else None
    if found is None:
        raise NotFound("No such test.")
    return found


def audit_check_findings(audit: object, check: Check) -> QuerySet[Finding]:
    """The check's findings open at some point of the audit's period, open ones first."""
    return (
        Finding.objects.for_org(audit.organization_id)
        .filter(check_ref=check)
        .filter(_during(audit_period(audit)))
        .order_by("state", "-opened_at", "-id")
    )


def audit_check_results(audit: object, check: Check) -> QuerySet[CheckResult]:
    """The results of the check's latest run on or before the period's last day."""
    org = audit.organization_id
    _start, end = audit_period(audit)
    last_run = (
        CheckResult.objects.for_org(org)
        .filter(check_ref=check, created_at__date__lte=end)
        .order_by("-created_at", "-id")
        .values("run_id")[:1]
    )
    return (
        CheckResult.objects.for_org(org)
        .filter(check_ref=check, run_id=Subquery(last_run))
        .select_related("run")
        .order_by("status", "resource_id")
    )
