"""The risk register in the auditor portal, for a granted audit: the register (filters by
owner, treatment and residual level, 50 a page, the heat map, CSV/XLSX export), a risk (its
scores, treatment, acceptance and linked controls) and the organization's risk assessments
(their summary, the frozen register's CSV and PDF).

Served to auditor memberships on their granted audits and, as a preview, to the members who
manage the register; contributors, another audit, an expired or revoked grant get "not
found" (``selectors_portal_registers.register_audit``). GET only; every file downloaded and
every export taken is in the organization's activity log.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from evidence.side_files import side_file_response
from reports import selectors
from reports import selectors_portal_registers as registers
from reports.portal_files import log_export, logged_file
from reports.selectors_portal_people import audit_period_end
from reports.tabular import export_format, table_response
from risks import exports, heatmap
from risks import matrix as matrices
from risks import selectors as risk_selectors
from risks.forms import RegisterFilterForm
from soc2app.client_ip import client_ip
from tenants.permissions import Action

PAGE_SIZE = 50


def _audit(request: HttpRequest, audit_pk: str):
    return registers.register_audit(request.membership, audit_pk, Action.RISK_MANAGE)


def _levels(risks, matrix, today) -> None:
    for risk in risks:
        risk.inherent_level = matrices.level_of(matrix, risk.inherent_score)
        risk.residual_level = matrices.level_of(matrix, risk.residual_score)
        risk.acceptance_expired = risk_selectors.acceptance_expired(risk, today)


@require_GET
def portal_risks(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    audit = _audit(request, audit_pk)
    org, today = request.organization, timezone.localdate()
    form = RegisterFilterForm(request.GET or None, owners=risk_selectors.owner_choices(org))
    fmt = export_format(request.GET.get("format"))
    if fmt is not None:
        table = exports.register_table(org, form.filters(), today)
        log_export(
            membership=request.membership,
            target=audit,
            object_repr=f"Risk register ({audit.name})",
            client_ip=client_ip(request),
            fmt=fmt,
        )
        return table_response(table, fmt, exports.filename(org, today))
    matrix = matrices.matrix_read(org)
    rows = risk_selectors.risks_list(org, matrix, form.filters())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    _levels(page.object_list, matrix, today)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {
        "audit": audit,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "today": today,
        "matrix": matrix,
        **heatmap.grids_context(org, matrix),
    }
    return render(request, "reports/portal/risks.html", context)


@require_GET
def portal_risk(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    audit = _audit(request, audit_pk)
    org, today = request.organization, timezone.localdate()
    risk = risk_selectors.risk_get(org, pk)
    matrix = matrices.matrix_read(org)
    _levels([risk], matrix, today)
    context = {
        "audit": audit,
        "risk": risk,
        "matrix": matrix,
        "today": today,
        "labels": {
            "inherent_likelihood": matrices.label(
                matrix.likelihood_labels, risk.inherent_likelihood
            ),
            "inherent_impact": matrices.label(matrix.impact_labels, risk.inherent_impact),
            "residual_likelihood": matrices.label(
                matrix.likelihood_labels, risk.residual_likelihood
            ),
            "residual_impact": matrices.label(matrix.impact_labels, risk.residual_impact),
        },
        # A linked control opens in the portal when it is in the audit's scope.
        "in_scope": set(selectors.audit_scope_controls(audit).values_list("pk", flat=True)),
    }
    return render(request, "reports/portal/risk.html", context)


@require_GET
def portal_risk_assessments(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    audit = _audit(request, audit_pk)
    rows = list(registers.assessments(audit))
    for assessment in rows:
        assessment.after_period = registers.after_period(audit, assessment)
        assessment.summary_lines = registers.summary_lines(assessment.summary)
    context = {"audit": audit, "assessments": rows, "end": audit_period_end(audit)}
    return render(request, "reports/portal/risk_assessments.html", context)


@require_GET
def portal_risk_assessment_file(
    request: HttpRequest, org_slug: str, audit_pk: str, pk: str, kind: str
) -> HttpResponse:
    audit = _audit(request, audit_pk)
    assessment = registers.assessment_get(audit, pk)
    file = registers.assessment_file(assessment, kind)
    response = side_file_response(file.key, file.name, file.content_type, "The file")
    return logged_file(
        response,
        membership=request.membership,
        target=assessment,
        object_repr=f"Risk assessment of {assessment.performed_on:%Y-%m-%d} ({kind.upper()})",
        sha256=file.sha256,
        client_ip=client_ip(request),
    )
