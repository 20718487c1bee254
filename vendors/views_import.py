"""The vendor CSV import pages (managers): upload, preview (every row new, updated or
unchanged, with the fields it changes; or every problem by line), confirm, and the template."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from soc2app import csv_pending as pending
from soc2app.csv_import import ImportRejected
from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from vendors import imports, services
from vendors.forms import ImportForm

IMPORT_KIND = "vendors"  # its previews in soc2app.csv_pending
PREVIEW_ROWS = 500  # rows listed on the preview; the counts are complete


def _manager(request: HttpRequest) -> None:
    permissions.require(request.membership, services.MANAGE)


@accepts_uploads
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Upload a file and see what it would do; nothing is written here."""
    _manager(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if (problem := upload_problem(request)) is not None:
            add_domain_error(form, problem)
        else:
            upload = form.cleaned_data["file"]
            data = upload.read(imports.MAX_BYTES + 1)
            plan = imports.plan_import(request.membership, data)
            token = None
            if plan.ok:
                token = pending.pending_put(
                    kind=IMPORT_KIND,
                    org_id=request.organization.pk,
                    user_id=request.user.pk,
                    data=data,
                    name=upload.name or "",
                )
            return _preview(request, plan, token, upload.name or "")
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "columns": imports.COLUMNS, "max_rows": imports.MAX_ROWS}
    return render(request, "vendors/import.html", context, status=status)


def _preview(request: HttpRequest, plan: imports.Plan, token: str | None, name: str):
    rows = [{"line": line, "changes": plan.shown(line)} for line in plan.lines[:PREVIEW_ROWS]]
    context = {
        "plan": plan,
        "token": token,
        "name": name,
        "rows": rows,
        "create_count": len(plan.to_create),
        "update_count": len(plan.to_update),
        "more_rows": max(0, len(plan.lines) - PREVIEW_ROWS),
        "more_errors": plan.error_count - len(plan.errors),
    }
    return render(request, "vendors/import_preview.html", context, status=200 if plan.ok else 400)


@require_POST
def import_confirm(request: HttpRequest, org_slug: str) -> HttpResponse:
    _manager(request)
    scope = {"kind": IMPORT_KIND, "org_id": request.organization.pk, "user_id": request.user.pk}
    token = request.POST.get("token", "")
    held = pending.pending_get(**scope, token=token)
    if held is None or held.sha256 != request.POST.get("sha256", ""):
        messages.error(request, "This preview has expired: upload the file again.")
        return redirect("vendor_import", org_slug=org_slug)
    try:
        plan = imports.import_apply(membership=request.membership, data=held.data, name=held.name)
    except ImportRejected as exc:  # the inventory or the members changed since the preview
        return _preview(request, exc.plan, None, held.name)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("vendor_import", org_slug=org_slug)
    pending.pending_drop(**scope, token=token)
    moved = len(plan.rescheduled)
    messages.success(
        request,
        f"Imported {held.name or 'the file'}: {len(plan.to_create)} added, "
        f"{len(plan.to_update)} updated, {plan.unchanged} unchanged."
        + (
            f" {moved} next review date{'s' if moved != 1 else ''} moved with the new criticality."
            if moved
            else ""
        ),
    )
    return redirect("vendors", org_slug=org_slug)


def import_template(request: HttpRequest, org_slug: str) -> HttpResponse:
    _manager(request)
    response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="vendors-template.csv"'
    return response
