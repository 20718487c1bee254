"""Risk register pages under /o/<org_slug>/risks/: the register (filters, 50 a page), a risk
(its details and edit form on one page), adding one, adopting from the library, deleting, and
the heat map. Managers only for now (``Action.RISK_MANAGE``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from controls.models import Control, System
from reports.tabular import export_format, table_response
from risks import exports, heatmap, selectors, services, services_matrix
from risks import matrix as matrices
from risks.assessment_selectors import assessment_due
from risks.forms import MatrixForm, RegisterFilterForm, RiskForm
from risks.library import library
from risks.models import Risk, RiskMatrix
from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from tenants import permissions
from tenants.permissions import Action

PAGE_SIZE = 50


def _require(request: HttpRequest) -> None:
    permissions.require(request.membership, Action.RISK_MANAGE)


def register(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require(request)
    org = request.organization
    matrix = matrices.matrix_read(org)
    form = RegisterFilterForm(request.GET or None, owners=selectors.owner_choices(org))
    fmt = export_format(request.GET.get("format"))
    if fmt is not None:  # the Export menu: the register with the filters shown
        today = timezone.localdate()
        table = exports.register_table(org, form.filters(), today)
        return table_response(table, fmt, exports.filename(org, today))
    page = Paginator(selectors.risks_list(org, matrix, form.filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    for risk in page.object_list:
        risk.inherent_level = matrices.level_of(matrix, risk.inherent_score)
        risk.residual_level = matrices.level_of(matrix, risk.residual_score)
        risk.acceptance_expired = selectors.acceptance_expired(risk, today)
    query = request.GET.copy()
    query.pop("page", None)
    beyond = form.cleaned_data.get("beyond") if form.is_bound and form.is_valid() else None
    query.pop("format", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "today": today,
        "beyond": beyond,
        "due": assessment_due(org, today),
        "can_run": True,
    }
    return render(request, "risks/register.html", context)


def _form(request: HttpRequest, matrix: RiskMatrix, risk: Risk | None) -> RiskForm:
    org = request.organization
    initial = None
    if risk is not None:
        initial = {
            name: getattr(risk, name)
            for name in (
                "title",
                "description",
                "category",
                "inherent_likelihood",
                "inherent_impact",
                "residual_likelihood",
                "residual_impact",
                "treatment",
                "accepted_reason",
                "accepted_until",
                "next_review_date",
            )
        }
        initial["owner"] = risk.owner_id
        initial["controls"] = [c.pk for c in risk.controls.all()]
        initial["systems"] = [s.pk for s in risk.systems.all()]
    controls = Control.objects.for_org(org).order_by("code").values_list("pk", "code", "title")
    return RiskForm(
        request.POST or None,
        initial=initial,
        matrix=matrix,
        owners=selectors.owner_choices(org),
        controls=[(pk, f"{code} {title}") for pk, code, title in controls],
        systems=System.objects.for_org(org).order_by("name").values_list("pk", "name"),
    )


def _edit(request: HttpRequest, risk: Risk | None) -> HttpResponse:
    org = request.organization
    matrix = matrices.matrix_read(org)
    form = _form(request, matrix, risk)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        if values["next_review_date"] is None:
            values.pop("next_review_date")  # a new risk: a year from today; else unchanged
        try:
            if risk is None:
                risk = services.risk_create(membership=request.membership, **values)
                messages.success(request, "Risk added to the register.")
            else:
                services.risk_update(membership=request.membership, risk=risk, **values)
                messages.success(request, "Risk saved.")
            return redirect("risk_detail", org_slug=org.slug, pk=risk.pk)
        except DomainError as error:
            add_domain_error(form, error)
    context = {"form": form, "risk": risk, "matrix": matrix, "today": timezone.localdate()}
    if risk is not None:
        risk.inherent_level = matrices.level_of(matrix, risk.inherent_score)
        risk.residual_level = matrices.level_of(matrix, risk.residual_score)
        risk.acceptance_expired = selectors.acceptance_expired(risk, timezone.localdate())
    return render(request, "risks/risk.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def risk_new(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require(request)
    return _edit(request, None)


@require_http_methods(["GET", "POST"])
def risk_detail(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    _require(request)
    return _edit(request, selectors.risk_get(request.organization, pk))


@require_POST
def risk_delete(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    _require(request)
    risk = selectors.risk_get(request.organization, pk)
    services.risk_delete(membership=request.membership, risk=risk)
    messages.success(request, f"“{risk.title}” was deleted from the register.")
    return redirect("risks", org_slug=org_slug)


@require_http_methods(["GET", "POST"])
def risk_library(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require(request)
    org = request.organization
    if request.method == "POST":
        try:
            risk = services.risk_adopt(
                membership=request.membership, key=request.POST.get("key", "")
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"“{risk.title}” was added: check its scores and owner.")
            return redirect("risk_detail", org_slug=org_slug, pk=risk.pk)
    context = {"rows": selectors.library_rows(org), "count": len(library())}
    return render(request, "risks/library.html", context)


def risk_heatmap(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require(request)
    org = request.organization
    matrix = matrices.matrix_read(org)
    context = {"matrix": matrix, **heatmap.grids_context(org, matrix)}
    return render(request, "risks/heatmap.html", context)


@require_http_methods(["GET", "POST"])
def risk_matrix(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The matrix settings: size, labels, level thresholds, assessment interval."""
    _require(request)
    org = request.organization
    matrix = matrices.matrix_read(org)
    form = MatrixForm(request.POST or None, initial=MatrixForm.initial_for(matrix))
    beyond, beyond_link = None, None
    if request.method == "POST" and form.is_valid():
        try:
            services_matrix.matrix_update(membership=request.membership, **form.values())
        except services_matrix.RisksBeyondMatrix as error:
            form.add_error("size", error.message)
            beyond = error
            beyond_link = f"{reverse('risks', kwargs={'org_slug': org_slug})}?beyond={error.size}"
        except DomainError as error:
            field = {"thresholds": "medium"}.get(error.field or "", error.field)
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(request, "Risk matrix saved: levels and the heat map follow it.")
            return redirect("risk_matrix", org_slug=org_slug)
    levels = [
        (lv.label, matrices.LEVEL_COLOURS[lv], *matrices.score_range(matrix, lv))
        for lv in matrices.LEVEL_ORDER
    ]
    context = {
        "form": form,
        "matrix": matrix,
        "levels": levels,
        "beyond": beyond,
        "beyond_link": beyond_link,
    }
    return render(request, "risks/matrix.html", context, status=400 if form.errors else 200)
