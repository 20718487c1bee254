"""Vendor pages under /o/<org_slug>/vendors/ (managers): the list with its filters, a vendor
with its documents (and their freshness) and reviews, adding a document, recording a review,
creating, changing and deleting a vendor."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from evidence.side_files import side_file_response
from reports.tabular import export_format, table_response
from soc2app.errors import DomainError
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from vendors import exports, selectors, services, services_rules
from vendors.forms import DocumentForm, FilterForm, ReviewForm, RulesForm, VendorForm
from vendors.models import DataKind
from vendors.rules import DEFAULT_RULES, as_fields, rules_for, rules_row_read

PAGE_SIZE = 50


def _manager(request: HttpRequest) -> None:
    permissions.require(request.membership, services.MANAGE)


def list_filters(form: FilterForm) -> selectors.VendorFilter:
    """The list's filters from its form (none when the form is not valid)."""
    values = form.cleaned_data if form.is_valid() else {}
    return selectors.VendorFilter(
        criticality=values.get("criticality", ""),
        subprocessor={"yes": True, "no": False}.get(values.get("subprocessor", "")),
        attention=values.get("attention", ""),
    )


def vendor_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    _manager(request)
    org, today = request.organization, timezone.localdate()
    form = FilterForm(request.GET or None)
    filters = list_filters(form)
    fmt = export_format(request.GET.get("format"))
    if fmt is not None:  # the Export menu: the list with the filters shown
        table = exports.vendor_table(org, filters, today)
        return table_response(table, fmt, exports.filename(org, today))
    rows = selectors.vendor_rows(org, today, filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "vendors/list.html", context)


def _vendor_context(request: HttpRequest, vendor, **forms) -> dict:
    org, today = request.organization, timezone.localdate()
    rules = rules_for(org)
    return {
        "vendor": vendor,
        "data_labels": [dict(DataKind.choices).get(k, k) for k in vendor.data_kinds],
        "row": selectors.vendor_row(org, vendor, today, rules),
        "documents": selectors.documents_of(org, vendor, today, rules),
        "review_months": rules.review_months.get(vendor.criticality),
        "reviews": selectors.reviews_of(org, vendor),
        "document_form": forms.get("document_form") or DocumentForm(),
        "review_form": forms.get("review_form") or ReviewForm(initial={"reviewed_on": today}),
    }


def vendor_detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    vendor = selectors.vendor_get(request.organization, pk)
    return render(request, "vendors/detail.html", _vendor_context(request, vendor))


def _save_vendor(request: HttpRequest, org_slug: str, vendor=None) -> HttpResponse:
    _manager(request)
    org = request.organization
    initial = {}
    if vendor is not None:
        initial = {name: getattr(vendor, name) for name in services.FIELDS}
        initial["owner"] = vendor.owner_id
    form = VendorForm(request.POST or None, initial=initial, organization=org)
    if request.method == "POST" and form.is_valid():
        try:
            if vendor is None:
                vendor = services.vendor_create(membership=request.membership, **form.cleaned_data)
                messages.success(request, f"{vendor.name} added.")
            else:
                services.vendor_update(
                    membership=request.membership, vendor=vendor, **form.cleaned_data
                )
                messages.success(request, f"{vendor.name} saved.")
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("vendor_detail", org_slug=org_slug, pk=vendor.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "vendors/edit.html", {"form": form, "vendor": vendor}, status=status)


@require_http_methods(["GET", "POST"])
def vendor_new(request: HttpRequest, org_slug: str) -> HttpResponse:
    return _save_vendor(request, org_slug)


@require_http_methods(["GET", "POST"])
def vendor_edit(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    return _save_vendor(request, org_slug, selectors.vendor_get(request.organization, pk))


@require_POST
def vendor_delete(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    vendor = selectors.vendor_get(request.organization, pk)
    try:
        services.vendor_delete(membership=request.membership, vendor=vendor)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("vendor_detail", org_slug=org_slug, pk=pk)
    messages.success(request, f"{vendor.name} deleted.")
    return redirect("vendors", org_slug=org_slug)


@accepts_uploads
@require_POST
def document_add(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    vendor = selectors.vendor_get(request.organization, pk)
    form = DocumentForm(request.POST, request.FILES)
    problem = upload_problem(request)
    if problem is not None:
        form.add_error("file", problem.message)
    elif form.is_valid():
        try:
            doc = services.document_add(
                membership=request.membership,
                vendor=vendor,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                period_end=form.cleaned_data["period_end"],
                expires_on=form.cleaned_data["expires_on"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"{doc.get_kind_display()} added.")
            return redirect("vendor_detail", org_slug=org_slug, pk=pk)
    context = _vendor_context(request, vendor, document_form=form)
    return render(request, "vendors/detail.html", context, status=400)


def document_download(request: HttpRequest, org_slug: str, pk: int, doc_pk: int) -> HttpResponse:
    _manager(request)
    vendor = selectors.vendor_get(request.organization, pk)
    doc = selectors.document_get(request.organization, vendor, doc_pk)
    return side_file_response(doc.file.name, doc.file_name, doc.content_type, "The document")


@require_POST
def review_add(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    vendor = selectors.vendor_get(request.organization, pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            review = services.review_record(
                membership=request.membership, vendor=vendor, **form.cleaned_data
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"Review recorded: next review by {review.next_review_date:%d %b %Y}."
            )
            return redirect("vendor_detail", org_slug=org_slug, pk=pk)
    context = _vendor_context(request, vendor, review_form=form)
    return render(request, "vendors/detail.html", context, status=400)


@require_http_methods(["GET", "POST"])
def vendor_rules(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Vendors → Rules: how long each document counts and how often vendors are reviewed."""
    _manager(request)
    row = rules_row_read(request.organization)
    initial = {name: getattr(row, name) for name in services_rules.FIELDS}
    form = RulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services_rules.rules_update(membership=request.membership, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Rules saved: vendor statuses follow them now.")
            return redirect("vendor_rules", org_slug=org_slug)
    context = {"form": form, "rules": row, "defaults": as_fields(DEFAULT_RULES)}
    return render(request, "vendors/rules.html", context, status=400 if form.errors else 200)
