"""The trust center's settings and requests under /o/<org_slug>/settings/trust/ (owners and
admins): the page's settings, the controls shown, the documents offered, and the requests
for private documents to approve or deny."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from soc2app.domain_recheck import MAX_FAILURES
from soc2app.errors import DomainError
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from trust import domains, selectors, services
from trust.forms import CenterForm, ControlsForm, DocumentEditForm, DocumentForm
from trust.models import RequestStatus
from trust.permissions import MANAGE
from trust.requests import request_decide

PAGE_SIZE = 50


def _manager(request: HttpRequest) -> None:
    permissions.require(request.membership, MANAGE)


def _form_error(form, exc: DomainError) -> None:  # noqa: ANN001
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _settings_page(request: HttpRequest, status: int = 200, **forms) -> HttpResponse:
    org = request.organization
    center = services.center_of(org)
    initial = {name: getattr(center, name) for name in services.CENTER_FIELDS}
    initial["audit"] = center.audit_id
    initial["allowed_domains"] = "\n".join(center.allowed_domains)
    context = {
        "center": center,
        "public_url": reverse("trust_page", kwargs={"slug": center.slug}),
        "domain": domains.domain_status(center),
        "max_failures": MAX_FAILURES,
        "center_form": forms.get("center_form") or CenterForm(initial=initial, organization=org),
        "controls_form": forms.get("controls_form")
        or ControlsForm(
            initial={"controls": selectors.published_control_ids(org)}, organization=org
        ),
        "document_form": forms.get("document_form") or DocumentForm(organization=org),
        "documents": selectors.listed_documents(org),
        "pending": selectors.requests_list(org, RequestStatus.PENDING).count(),
    }
    return render(request, "trust/settings.html", context, status=status)


@require_http_methods(["GET", "POST"])
def trust_settings(request: HttpRequest, org_slug: str) -> HttpResponse:
    _manager(request)
    if request.method == "GET":
        return _settings_page(request)
    form = CenterForm(request.POST, organization=request.organization)
    if form.is_valid():
        values = dict(form.cleaned_data)
        audit_pk = values.pop("audit")
        values["audit"] = (
            None if audit_pk is None else selectors.audit_get(request.organization, audit_pk)
        )
        try:
            services.center_save(membership=request.membership, **values)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Trust center saved.")
            return redirect("trust_settings", org_slug=org_slug)
    return _settings_page(request, 400, center_form=form)


@require_POST
def trust_domain_check(request: HttpRequest, org_slug: str) -> HttpResponse:
    """ "Check now": the custom domain's TXT record (``trust.domains``)."""
    _manager(request)
    try:
        domains.domain_check(membership=request.membership)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Custom domain verified.")
    return redirect(reverse("trust_settings", kwargs={"org_slug": org_slug}) + "#custom-domain")


@require_POST
def trust_controls(request: HttpRequest, org_slug: str) -> HttpResponse:
    _manager(request)
    form = ControlsForm(request.POST, organization=request.organization)
    if form.is_valid():
        try:
            services.controls_publish(
                membership=request.membership, control_ids=form.cleaned_data["controls"]
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Controls shown saved.")
            return redirect("trust_settings", org_slug=org_slug)
    return _settings_page(request, 400, controls_form=form)


@accepts_uploads
@require_POST
def trust_document_add(request: HttpRequest, org_slug: str) -> HttpResponse:
    _manager(request)
    form = DocumentForm(request.POST, request.FILES, organization=request.organization)
    problem = upload_problem(request)
    if problem is not None:
        form.add_error("file", problem.message)
    elif form.is_valid():
        data = form.cleaned_data
        try:
            doc = services.document_add(
                membership=request.membership,
                title=data["title"],
                description=data["description"],
                visibility=data["visibility"],
                upload=data["file"],
                policy_version=data["policy_version"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{doc.title} added.")
            return redirect("trust_settings", org_slug=org_slug)
    return _settings_page(request, 400, document_form=form)


@require_http_methods(["GET", "POST"])
def trust_document_edit(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    doc = selectors.document_get(request.organization, pk)
    initial = {"title": doc.title, "description": doc.description, "visibility": doc.visibility}
    form = DocumentEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.document_update(
                membership=request.membership, document=doc, **form.cleaned_data
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{doc.title} saved.")
            return redirect("trust_settings", org_slug=org_slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "trust/document_edit.html", {"form": form, "document": doc}, status=status
    )


@require_POST
def trust_document_withdraw(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    doc = selectors.document_get(request.organization, pk)
    services.document_withdraw(membership=request.membership, document=doc)
    messages.success(
        request, f"{doc.title} withdrawn: it is off the page and its links no longer work."
    )
    return redirect("trust_settings", org_slug=org_slug)


def trust_requests(request: HttpRequest, org_slug: str) -> HttpResponse:
    _manager(request)
    status = request.GET.get("status", RequestStatus.PENDING)
    rows = selectors.requests_list(request.organization, status if status != "all" else "")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    statuses = [*RequestStatus.choices, ("all", "All")]
    return render(
        request, "trust/requests.html", {"page": page, "status": status, "statuses": statuses}
    )


@require_POST
def trust_request_decide(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    found = selectors.request_get(request.organization, pk)
    decision = request.POST.get("decision")
    if decision not in ("approve", "deny"):
        messages.error(request, "Choose approve or deny.")
    else:
        try:
            request_decide(
                membership=request.membership, request=found, approve=decision == "approve"
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            word = (
                "approved: the download link is on its way"
                if decision == "approve"
                else "denied: the visitor is told by e-mail"
            )
            messages.success(request, f"Request of {found.email} {word}.")
    return redirect(reverse("trust_requests", kwargs={"org_slug": org_slug}) + "?status=pending")
