"""Browser pages of one integration (a connection): its settings and runs, Run now, Test
connection, Retry, a run's raw output, and the change form (admins). Starting, testing and
reading runs is ``Action.RUN_START`` (admins and compliance managers); changing the
connection is ``Action.CONNECTION_MANAGE`` (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from controls import selectors as control_selectors
from monitoring import runs, selectors, services
from monitoring.config import config_fields_for
from monitoring.forms import ConnectionForm
from monitoring.models import CheckRun, Connection
from reports.downloads import DOWNLOAD_CSP
from soc2app.errors import DomainError
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.permissions import Action

PAGE_SIZE = 25


def _connection(request: HttpRequest, pk: int) -> Connection:
    permissions.require(request.membership, Action.RUN_START)
    return selectors.get_connection_for(request.membership, pk)


def _row_context(request: HttpRequest, run: CheckRun) -> dict:
    return {"run": run, "can_start": permissions.can(request.membership, Action.RUN_START)}


def connection_detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    connection = _connection(request, pk)
    org = request.organization
    page = Paginator(selectors.connection_runs(connection), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    settings_shown = []
    for setting in config_fields_for(connection.kind):
        value = connection.config.get(setting.name, "")
        settings_shown.append((setting.label, ", ".join(value) if setting.many else value))
    context = {
        "connection": connection,
        "system_names": selectors.connection_system_names(org, [connection])[connection.pk],
        "settings_shown": settings_shown,
        "page": page,
        "can_manage": permissions.can(request.membership, Action.CONNECTION_MANAGE),
        "can_start": True,
        "runnable": connection.kind != "custom",
    }
    return render(request, "monitoring/connection_detail.html", context)


@require_POST
def run_start(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    connection = _connection(request, pk)
    try:
        started = runs.run_start(principal=request.membership, connection=connection)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        (messages.success if started.started else messages.info)(request, started.message)
    return redirect("monitoring_connection", org_slug=org_slug, pk=pk)


@require_POST
def connection_test(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    connection = _connection(request, pk)
    probe = runs.connection_test(principal=request.membership, connection=connection)
    outcome = "works" if probe.ok else "does not work"
    (messages.success if probe.ok else messages.error)(
        request, f"Test connection: {connection.name} {outcome}. {probe.message}"
    )
    return redirect("monitoring_connection", org_slug=org_slug, pk=pk)


@require_POST
def run_retry(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.RUN_START)
    run = selectors.get_run_for(request.membership, pk)
    try:
        started = runs.run_retry(principal=request.membership, run=run)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        (messages.success if started.started else messages.info)(request, started.message)
    return redirect("monitoring_connection", org_slug=org_slug, pk=run.connection_id)


@require_GET
def run_row(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """One run's row (htmx polls it every few seconds while the run is queued or running)."""
    permissions.require(request.membership, Action.RUN_START)
    run = selectors.get_run_for(request.membership, pk)
    return render(request, "monitoring/_run_row.html", _row_context(request, run))


@require_GET
def run_output(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """A run's raw output as it was stored (SHA-256 and size on the page), logged."""
    permissions.require(request.membership, Action.RUN_START)
    run = selectors.get_run_for(request.membership, pk)
    if not run.output:
        raise Http404("This run stored no output.")
    try:
        handle = run.output.open("rb")
    except OSError:
        raise Http404("This run's output is missing from storage.") from None
    with transaction.atomic():
        activity_record(
            organization=request.organization,
            actor=Actor.for_principal(request.membership),
            action="download",
            target=run,
            object_repr=f"{run.connection.name}: {run.output_name}"[:200],
            changes={"sha256": [None, run.output_sha256]},
        )
    response = FileResponse(handle, content_type="application/octet-stream")
    name = run.output_name or f"run-{run.pk}-output"
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def connection_edit(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.CONNECTION_MANAGE)
    connection = selectors.get_connection_for(request.membership, pk)
    org = request.organization
    systems = [(s.pk, s.name) for s in control_selectors.systems_list(org)]
    initial = {
        "name": connection.name,
        "schedule": connection.schedule,
        "systems": selectors.connection_system_ids(org, [connection])[connection.pk],
    }
    form = ConnectionForm(
        request.POST or None, systems=systems, editing=connection, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_update(
                membership=request.membership, connection=connection, **form.service_arguments()
            )
        except DomainError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"{connection.name} is saved.")
            return redirect("monitoring_connection", org_slug=org_slug, pk=pk)
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "connection": connection}
    return render(request, "monitoring/connection_form.html", context, status=status)
