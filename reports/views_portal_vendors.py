"""The vendor inventory in the auditor portal, for a granted audit: the vendors with their
document status, last and next review (the list's filters, 50 a page, CSV/XLSX export), and a
vendor with its documents (each downloadable, served like evidence files) and reviews.

Who is served, and how, as the portal's risk register (``views_portal_risks``): auditors on
their granted audits and, as a preview, the members who manage vendors; GET only; every
document downloaded and every export taken is in the organization's activity log.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from evidence.side_files import side_file_response
from reports import selectors_portal_registers as registers
from reports.portal_files import log_export, logged_file
from reports.tabular import export_format, table_response
from soc2app.api.tenancy import object_id
from soc2app.client_ip import client_ip
from tenants.permissions import Action
from vendors import exports, selectors
from vendors.forms import FilterForm
from vendors.models import DataKind
from vendors.views import list_filters

PAGE_SIZE = 50


def _audit(request: HttpRequest, audit_pk: str):
    return registers.register_audit(request.membership, audit_pk, Action.VENDOR_MANAGE)


@require_GET
def portal_vendors(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    audit = _audit(request, audit_pk)
    org, today = request.organization, timezone.localdate()
    form = FilterForm(request.GET or None)
    filters = list_filters(form)
    fmt = export_format(request.GET.get("format"))
    if fmt is not None:
        table = exports.vendor_table(org, filters, today)
        log_export(
            membership=request.membership,
            target=audit,
            object_repr=f"Vendors ({audit.name})",
            client_ip=client_ip(request),
            fmt=fmt,
        )
        return table_response(table, fmt, exports.filename(org, today))
    page = Paginator(selectors.vendor_rows(org, today, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    reviews = exports.last_reviews(org)
    for row in page.object_list:
        row.last_review = reviews.get(row.vendor.pk)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context = {"audit": audit, "form": form, "page": page, "query": query.urlencode()}
    return render(request, "reports/portal/vendors.html", context)


@require_GET
def portal_vendor(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    audit = _audit(request, audit_pk)
    org, today = request.organization, timezone.localdate()
    vendor = selectors.vendor_get(org, object_id(pk, "vendor"))
    context = {
        "audit": audit,
        "vendor": vendor,
        "data_labels": [dict(DataKind.choices).get(k, k) for k in vendor.data_kinds],
        "row": selectors.vendor_row(org, vendor, today),
        "documents": selectors.documents_of(org, vendor, today),
        "reviews": list(selectors.reviews_of(org, vendor)),
    }
    return render(request, "reports/portal/vendor.html", context)


@require_GET
def portal_vendor_document(
    request: HttpRequest, org_slug: str, audit_pk: str, pk: str, doc_pk: str
) -> HttpResponse:
    _audit(request, audit_pk)
    org = request.organization
    vendor = selectors.vendor_get(org, object_id(pk, "vendor"))
    doc = selectors.document_get(org, vendor, object_id(doc_pk, "document"))
    response = side_file_response(doc.file.name, doc.file_name, doc.content_type, "The document")
    return logged_file(
        response,
        membership=request.membership,
        target=doc,
        object_repr=f"{doc.get_kind_display()} of {vendor.name}: {doc.file_name}",
        sha256=doc.sha256,
        client_ip=client_ip(request),
    )
