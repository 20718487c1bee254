"""Report pages under /o/<org_slug>/reports/: an audit's reports (with their status, polled
by htmx while one is being generated), request, retry and download.

Files are only sent as attachments, with ``nosniff``; every download is logged.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from controls.selectors import audit_get_for
from reports import selectors, services
from reports.downloads import MissingFile, report_file_response
from reports.models import ReportKind, ReportStatus
from soc2app.client_ip import client_ip
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.permissions import Action


def _list_context(request: HttpRequest, audit) -> dict:
    reports = list(selectors.reports_for_audit(request.organization, audit))
    return {
        "audit": audit,
        "reports": reports,
        "kinds": ReportKind.choices,
        "can_generate": permissions.can(request.membership, Action.REPORT_GENERATE),
    }


@require_GET
def report_list(request: HttpRequest, org_slug: str, audit_pk: int) -> HttpResponse:
    audit = audit_get_for(request.organization, audit_pk)
    return render(request, "reports/list.html", _list_context(request, audit))


@require_POST
def report_request(request: HttpRequest, org_slug: str, audit_pk: int) -> HttpResponse:
    audit = audit_get_for(request.organization, audit_pk)
    permissions.require(request.membership, Action.REPORT_GENERATE)
    try:
        report = services.report_request(
            membership=request.membership, audit=audit, kind=request.POST.get("kind", "")
        )
    except ValidationFailed as exc:
        context = {**_list_context(request, audit), "error": exc.message}
        return render(request, "reports/list.html", context, status=400)
    messages.success(request, f"{report.get_kind_display()} requested.")
    return redirect("report_list", org_slug=org_slug, audit_pk=audit.pk)


@require_GET
def report_status(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """One report's row (htmx polls it every few seconds until the report is finished)."""
    report = selectors.report_get_for(request.organization, pk)
    context = {
        "report": report,
        "can_generate": permissions.can(request.membership, Action.REPORT_GENERATE),
    }
    return render(request, "reports/_report_row.html", context)


@require_POST
def report_retry(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    report = selectors.report_get_for(request.organization, pk)
    services.report_retry(membership=request.membership, report=report)
    messages.success(request, f"{report.get_kind_display()} queued again.")
    return redirect("report_list", org_slug=org_slug, audit_pk=report.audit_id)


@require_GET
def report_download(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    report = selectors.report_get_for(request.organization, pk)
    if report.status != ReportStatus.DONE:
        raise Http404("This report is not ready.")
    try:
        return report_file_response(
            report,
            lambda: services.report_download_record(
                membership=request.membership, report=report, client_ip=client_ip(request)
            ),
        )
    except MissingFile:
        raise Http404("The file of this report is missing from storage.") from None
