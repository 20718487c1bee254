"""The read-only auditor portal under /o/<org_slug>/portal/, and the managers' grant/revoke.

An auditor membership sees only this portal (``TenantMiddleware`` sends it here from every
other organization page) and, in it, only the audits it was granted (``AuditorAccess``):
their scope, readiness, criteria, the controls mapped into scope with their evidence, and the
finished reports. Files held for their malware scan or quarantined are not shown
(``deliverable_versions``). Every portal view is GET-only; downloads go through the same views and
logging services as everyone's (``evidence_download_record``, ``report_download_record``), so
each one an auditor makes is in the organization's activity log.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from controls import charts
from controls.readiness import audit_readiness
from controls.selectors import audit_get_for, audit_scope
from evidence import selectors as evidence_selectors
from evidence import services as evidence_services
from evidence import views as evidence_views
from evidence.models import EvidenceKind
from monitoring.selectors import control_checks
from reports import selectors, services
from reports import views as report_views
from reports.models import AuditorAccess
from reports.selectors_portal_registers import sees_register
from reports.views_portal_people import sees_people
from soc2app.client_ip import client_ip
from soc2app.errors import ValidationFailed
from tenants.models import Membership
from tenants.permissions import Action


@require_GET
def portal_home(request: HttpRequest, org_slug: str) -> HttpResponse:
    audits = list(selectors.portal_audits(request.membership))
    return render(request, "reports/portal/home.html", {"audits": audits})


@require_GET
def portal_audit(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    audit = selectors.portal_audit_get(request.membership, audit_pk)
    readiness = audit_readiness(audit)
    _keys, systems = audit_scope(audit)
    context = {
        "audit": audit,
        "readiness": readiness,
        "systems": systems,
        "chart": charts.category_bars(readiness),
        "exceptions": charts.exception_rows(readiness),  # read-only: no deviation links
        "reports": list(selectors.portal_reports(audit)),
        "open_requests": selectors.open_request_count(audit),
        "in_scope": set(selectors.audit_scope_controls(audit).values_list("pk", flat=True)),
        # Policies, acceptance, training and checklists name people: auditors and roster
        # managers only.
        "sees_people": sees_people(request.membership),
        # The risk register and the vendors: auditors and the members who manage them.
        "sees_risks": sees_register(request.membership, Action.RISK_MANAGE),
        "sees_vendors": sees_register(request.membership, Action.VENDOR_MANAGE),
    }
    return render(request, "reports/portal/audit.html", context)


@require_GET
def portal_control(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    audit = selectors.portal_audit_get(request.membership, audit_pk)
    control = selectors.portal_control_get(audit, pk)
    items = evidence_selectors.evidence_for_control(
        audit.organization_id, control, deliverable_only=True
    )
    context = {
        "audit": audit,
        "control": control,
        "items": items,
        "tests": list(control_checks(control)),  # its automated tests: one query
    }
    return render(request, "reports/portal/control.html", context)


@require_GET
def portal_evidence_item(
    request: HttpRequest, org_slug: str, audit_pk: str, pk: str
) -> HttpResponse:
    audit = selectors.portal_audit_get(request.membership, audit_pk)
    item = evidence_selectors.item_get_for(audit.organization_id, pk, deliverable_only=True)
    if item.is_removed:
        raise Http404("No such evidence item.")
    control = selectors.portal_control_get(audit, item.control_id)
    context = {"audit": audit, "control": control, "item": item}
    return render(request, "reports/portal/item.html", context)


@require_GET
def portal_version_download(
    request: HttpRequest, org_slug: str, audit_pk: str, pk: str
) -> HttpResponse:
    """An evidence version of a control in a granted audit's scope (logged by the view)."""
    audit = selectors.portal_audit_get(request.membership, audit_pk)
    version = selectors.portal_version_get(audit, pk)
    if version.kind == EvidenceKind.LINK:
        # Seeing a link counts as a download in the portal; shown on a portal page, whose
        # breadcrumbs stay in the portal (the members' link page leads out of it).
        evidence_services.evidence_download_record(
            membership=request.membership, version=version, client_ip=client_ip(request)
        )
        context = {"audit": audit, "version": version, "item": version.item}
        return render(request, "reports/portal/link.html", context)
    return evidence_views.version_download(request, org_slug=org_slug, pk=str(version.pk))


@require_GET
def portal_report_download(
    request: HttpRequest, org_slug: str, audit_pk: str, pk: str
) -> HttpResponse:
    """A finished report of a granted audit (logged by the view)."""
    audit = selectors.portal_audit_get(request.membership, audit_pk)
    report = selectors.portal_report_get(audit, pk)
    return report_views.report_download(request, org_slug=org_slug, pk=report.pk)


# --- Managers: who may see an audit in the portal ----------------------------------------------


@require_POST
def auditor_access_grant(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    org = request.organization
    audit = audit_get_for(org, audit_pk)
    raw = request.POST.get("membership", "")
    auditor = None
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        auditor = Membership.objects.for_org(org).select_related("user").filter(pk=raw).first()
    if auditor is None:
        messages.error(request, "Choose one of the organization's auditors.")
    else:
        try:
            services.auditor_access_grant(
                membership=request.membership, auditor=auditor, audit=audit
            )
        except ValidationFailed as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{auditor.user.email} can now see this audit.")
    return redirect("audit_detail", org_slug=org.slug, pk=audit.pk)


@require_POST
def auditor_access_revoke(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    org = request.organization
    access = None
    if 0 < int(pk) < 2**63:
        access = (
            AuditorAccess.objects.for_org(org)
            .select_related("membership__user", "audit")
            .filter(pk=pk)
            .first()
        )
    if access is None:
        raise Http404("No such access.")
    services.auditor_access_revoke(membership=request.membership, access=access)
    messages.success(request, f"{access.membership.user.email} no longer sees this audit.")
    return redirect("audit_detail", org_slug=org.slug, pk=access.audit_id)
