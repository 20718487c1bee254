"""Browser pages of continuous monitoring: the overview of tests (failing first), a test's
results and findings, and the integrations (connections; one integration's page and runs:
``monitoring.views_runs``). Views validate, call a selector or
service and render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from controls import selectors as control_selectors
from monitoring import selectors, services
from monitoring.collectors import runnable_kinds
from monitoring.forms import ConnectionForm, OverviewFilter
from monitoring.models import ConnectionKind
from soc2app.errors import DomainError
from tenants import permissions
from tenants.permissions import Action

PAGE_SIZE = 25


def overview(request: HttpRequest, org_slug: str) -> HttpResponse:
    membership = request.membership
    org = request.organization
    form = OverviewFilter(request.GET or None, owners=control_selectors.owner_choices(org))
    checks = selectors.checks_overview(membership)
    if form.is_bound:
        if form.is_valid():
            if form.cleaned_data["severity"]:
                checks = checks.filter(severity=form.cleaned_data["severity"])
            if form.cleaned_data["owner"]:
                checks = checks.filter(owner_id=form.cleaned_data["owner"])
        else:
            checks = checks.none()
    page = Paginator(checks, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": form,
        "page": page,
        "query": query.urlencode(),
        "sees_all": selectors.sees_all_checks(membership),
    }
    return render(request, "monitoring/overview.html", context)


def check_detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    check = selectors.get_check_for(request.membership, pk)
    context = {
        "check": check,
        "controls": selectors.check_controls(check),
        "results": list(selectors.latest_results(check).select_related("run")[:200]),
        "findings": list(selectors.check_findings(check)[:100]),
    }
    return render(request, "monitoring/check_detail.html", context)


def connections(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The integrations (connections): admins manage them, compliance managers run them."""
    permissions.require(request.membership, Action.RUN_START)
    org = request.organization
    rows = list(selectors.connections_list(org))
    names, runs = selectors.connection_system_names(org, rows), selectors.last_runs(org, rows)
    for row in rows:  # two queries for the whole page
        row.system_names, row.last_run = names[row.pk], runs.get(row.pk)
    context = {
        "connections": rows,
        "can_manage": permissions.can(request.membership, Action.CONNECTION_MANAGE),
    }
    return render(request, "monitoring/connections.html", context)


@require_http_methods(["GET", "POST"])
def connection_add(request: HttpRequest, org_slug: str) -> HttpResponse:
    permissions.require(request.membership, Action.CONNECTION_MANAGE)
    org = request.organization
    systems = [(s.pk, s.name) for s in control_selectors.systems_list(org)]
    kinds = [ConnectionKind.CUSTOM, *(k for k in runnable_kinds() if k in ConnectionKind.values)]
    form = ConnectionForm(request.POST or None, systems=systems, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.connection_create(
                membership=request.membership, **form.service_arguments()
            )
        except DomainError as exc:
            form.add_service_error(exc)
        else:
            if connection.kind == ConnectionKind.CUSTOM:
                said = f"push its results with an API key (connection id {connection.pk})."
            else:
                said = "press Test connection to check its credentials."
            messages.success(request, f"{connection.name} is connected: {said}")
            return redirect("monitoring_connection", org_slug=org_slug, pk=connection.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "monitoring/connection_form.html", {"form": form}, status=status)


@require_POST
def connection_toggle(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """Pause a connection (pushes are refused, nothing runs) or resume it."""
    permissions.require(request.membership, Action.CONNECTION_MANAGE)
    connection = selectors.get_connection_for(request.membership, pk)
    connection = services.connection_update(
        membership=request.membership, connection=connection, enabled=not connection.enabled
    )
    state = "resumed" if connection.enabled else "paused"
    messages.success(request, f"{connection.name} is {state}.")
    return redirect("monitoring_connections", org_slug=org_slug)


@require_POST
def connection_delete(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.CONNECTION_MANAGE)
    connection = selectors.get_connection_for(request.membership, pk)
    services.connection_delete(membership=request.membership, connection=connection)
    messages.success(request, f"{connection.name} was removed, with its tests and findings.")
    return redirect("monitoring_connections", org_slug=org_slug)
