"""Risk assessment pages under /o/<org_slug>/risks/assessments/: the list (25 a page), running
one (a confirmation form that says what is frozen and which controls get evidence), one
assessment (summary, downloads with their SHA-256, the frozen register 50 a page, the PDF's
status polled by htmx while it renders), its PDF's status and retry, and the downloads.
Managers run them; whoever reads the register reads them (``Action.RISK_MANAGE`` for now)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from controls.selectors import controls_mapped_to
from risks import assessment, assessment_rows, assessment_selectors
from risks import matrix as matrices
from risks.assessment_downloads import assessment_file_response
from risks.assessment_pdf import assessment_context
from risks.forms import AssessmentRunForm
from risks.models import Risk
from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from tenants import permissions
from tenants.permissions import Action

LIST_SIZE = 25
ROWS_SIZE = 50


def _require(request: HttpRequest) -> None:
    permissions.require(request.membership, Action.RISK_MANAGE)


@require_GET
def assessment_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require(request)
    org = request.organization
    page = Paginator(assessment_selectors.assessments_list(org), LIST_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    context = {
        "page": page,
        "due": assessment_selectors.assessment_due(org, today),
        "can_run": True,
    }
    return render(request, "risks/assessments.html", context)


@require_http_methods(["GET", "POST"])
def assessment_run(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require(request)
    org = request.organization
    today = timezone.localdate()
    form = AssessmentRunForm(request.POST or None, initial={"performed_on": today})
    if request.method == "POST" and form.is_valid():
        try:
            done = assessment.assessment_run(
                membership=request.membership,
                performed_on=form.cleaned_data["performed_on"],
                notes=form.cleaned_data["notes"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                "Risk assessment recorded: the register is frozen, the CSV stored and the "
                "evidence written. The PDF is being rendered.",
            )
            return redirect("risk_assessment", org_slug=org_slug, pk=done.pk)
    context = {
        "form": form,
        "risk_count": Risk.objects.for_org(org).count(),
        "controls": controls_mapped_to(org, assessment.CRITERIA),
        "criteria": assessment.CRITERIA,
        "interval": matrices.matrix_read(org).assessment_interval_days,
        "due": assessment_selectors.assessment_due(org, today),
    }
    return render(request, "risks/assessment_run.html", context, status=400 if form.errors else 200)


@require_GET
def assessment_detail(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    _require(request)
    found = assessment_selectors.assessment_get(request.organization, pk)
    page = Paginator(assessment_rows.display(found.rows), ROWS_SIZE).get_page(
        request.GET.get("page")
    )
    context = {**assessment_context(found), "page": page, "today": timezone.localdate()}
    return render(request, "risks/assessment.html", context)


@require_GET
def assessment_status(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    """The downloads block (htmx polls it every few seconds while the PDF renders)."""
    _require(request)
    found = assessment_selectors.assessment_get(request.organization, pk)
    return render(request, "risks/_assessment_files.html", {"assessment": found})


@require_POST
def assessment_retry(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    _require(request)
    found = assessment_selectors.assessment_get(request.organization, pk)
    try:
        assessment.assessment_retry(membership=request.membership, assessment=found)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The PDF is being rendered again.")
    return redirect("risk_assessment", org_slug=org_slug, pk=found.pk)


@require_GET
def assessment_download(request: HttpRequest, org_slug: str, pk: str, kind: str) -> HttpResponse:
    _require(request)
    found = assessment_selectors.assessment_get(request.organization, pk)
    return assessment_file_response(found, kind, membership=request.membership)
