"""Reads of continuous monitoring, scoped to the organization and to what the member may see:
owners, admins, compliance managers (and read-only keys) see every check; a contributor sees
the checks of the controls they own."""

from __future__ import annotations

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from monitoring.models import (
    SEVERITY_RANK,
    Check,
    CheckControl,
    CheckResult,
    CheckRun,
    Connection,
    ConnectionSystem,
    Finding,
    FindingState,
)
from soc2app.errors import NotFound
from tenants import permissions
from tenants.models import Membership, Role
from tenants.permissions import Action

SEVERITY_ORDER = Case(
    *(When(severity=s, then=Value(rank)) for s, rank in SEVERITY_RANK.items()),
    default=Value(9),
    output_field=IntegerField(),
)


def sees_all_checks(principal: Membership) -> bool:
    """Contributors see only their controls' tests; everyone else who may view sees all."""
    return permissions.can(principal, Action.VIEW) and principal.role != Role.CONTRIBUTOR


def _own_control_ids(principal: Membership) -> Subquery | list[int]:
    if getattr(principal, "is_api_key", False):
        return []  # a key owns no control
    return (
        CheckControl.objects.for_org(principal.organization_id)
        .filter(control__owner_id=principal.pk)
        .values("check_ref_id")
    )


def connections_list(org: object) -> QuerySet[Connection]:
    return Connection.objects.for_org(org).order_by("name", "id")


def connection_system_names(org: object, connections: list[Connection]) -> dict[int, list[str]]:
    """Names of each connection's systems in scope: one query."""
    names: dict[int, list[str]] = {c.pk: [] for c in connections}
    links = (
        ConnectionSystem.objects.for_org(org)
        .filter(connection__in=connections)
        .select_related("system")
        .order_by("system__name")
    )
    for link in links:
        names[link.connection_id].append(link.system.name)
    return names


def connection_system_ids(org: object, connections: list[Connection]) -> dict[int, list[int]]:
    """Ids of each connection's systems in scope: one query."""
    ids: dict[int, list[int]] = {c.pk: [] for c in connections}
    links = ConnectionSystem.objects.for_org(org).filter(connection__in=connections)
    for link in links.order_by("system_id"):
        ids[link.connection_id].append(link.system_id)
    return ids


def get_connection_for(principal: Membership, pk: int) -> Connection:
    found = Connection.objects.for_org(principal.organization_id).filter(pk=pk).first()
    if found is None:
        raise NotFound("No such connection.")
    return found


def checks_visible(principal: Membership) -> QuerySet[Check]:
    checks = Check.objects.for_org(principal.organization_id)
    if not sees_all_checks(principal):
        checks = checks.filter(pk__in=_own_control_ids(principal))
    return checks


def checks_overview(principal: Membership) -> QuerySet[Check]:
    """Checks failing first, then by severity, owner and age (oldest open finding first),
    each with its open findings, oldest open date, connection and owner: one query."""
    org = principal.organization_id
    first_control = CheckControl.objects.for_org(org).filter(check_ref_id=OuterRef("pk"))
    return (
        checks_visible(principal)
        .select_related("connection")
        .annotate(
            severity_rank=SEVERITY_ORDER,
            open_findings=Count("findings", filter=Q(findings__state=FindingState.OPEN)),
            oldest_open=Min("findings__opened_at", filter=Q(findings__state=FindingState.OPEN)),
            owner_id=Subquery(first_control.values("control__owner_id")[:1]),
            owner_email=Subquery(first_control.values("control__owner__user__email")[:1]),
        )
        .order_by("-failing", "severity_rank", "owner_email", "oldest_open", "key", "id")
    )


def get_check_for(principal: Membership, pk: int) -> Check:
    found = checks_visible(principal).select_related("connection").filter(pk=pk).first()
    if found is None:
        raise NotFound("No such test.")
    return found


def check_controls(check: Check) -> list:
    """The controls a check tests, in order (the first one's owner owns its findings)."""
    links = (
        CheckControl.objects.for_org(check.organization_id)
        .filter(check_ref=check)
        .select_related("control")
        .order_by("position", "id")
    )
    return [link.control for link in links]


def latest_results(check: Check) -> QuerySet[CheckResult]:
    """The results of the check's latest run that included it."""
    org = check.organization_id
    last_run = (
        CheckResult.objects.for_org(org).filter(check_ref=check).order_by("-created_at", "-id")
    ).values("run_id")[:1]
    return (
        CheckResult.objects.for_org(org)
        .filter(check_ref=check, run_id=Subquery(last_run))
        .order_by("status", "resource_id")
    )


def findings_list(principal: Membership) -> QuerySet[Finding]:
    org = principal.organization_id
    findings = Finding.objects.for_org(org).select_related("check_ref", "owner__user")
    if not sees_all_checks(principal):
        findings = findings.filter(check_ref_id__in=_own_control_ids(principal))
    return findings.order_by("state", "due_date", "-opened_at", "-id")


def check_findings(check: Check) -> QuerySet[Finding]:
    return (
        Finding.objects.for_org(check.organization_id)
        .filter(check_ref=check)
        .select_related("owner__user")
        .order_by("state", "-opened_at", "-id")
    )


def control_checks(control: object) -> QuerySet[Check]:
    """The tests of a control, failing first, with their open findings: one query."""
    org = control.organization_id
    tested = CheckControl.objects.for_org(org).filter(control=control).values("check_ref_id")
    return (
        Check.objects.for_org(org)
        .filter(pk__in=tested)
        .annotate(
            severity_rank=SEVERITY_ORDER,
            open_findings=Count("findings", filter=Q(findings__state=FindingState.OPEN)),
        )
        .order_by("-failing", "severity_rank", "key")
    )


def last_runs(org: object, connections: list[Connection]) -> dict[int, CheckRun]:
    """Each connection's latest run: one query."""
    latest = (
        CheckRun.objects.for_org(org)
        .filter(connection=OuterRef("connection"))
        .order_by("-started_at", "-id")
    ).values("pk")[:1]
    runs = CheckRun.objects.for_org(org).filter(connection__in=connections, pk=Subquery(latest))
    return {run.connection_id: run for run in runs}


def control_tests_for(principal: Membership, control: object) -> list[Check] | None:
    """The tests on a control's page, or None when the member may not see them (a
    contributor on a control someone else owns)."""
    if not sees_all_checks(principal) and control.owner_id != principal.pk:
        return None
    return list(control_checks(control))


def connection_runs(connection: Connection) -> QuerySet[CheckRun]:
    """A connection's runs, newest first (queued ones by when they were queued)."""
    return (
        CheckRun.objects.for_org(connection.organization_id)
        .filter(connection=connection)
        .order_by("-created_at", "-id")
    )


def get_run_for(principal: Membership, pk: int) -> CheckRun:
    """A run of the member's organization, with its connection (one query)."""
    found = (
        CheckRun.objects.for_org(principal.organization_id)
        .select_related("connection")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound("No such run.")
    return found
