"""The roster's CSV import pages (managers): upload, preview (whom it adds and what it changes,
or every problem by line), confirm, and an example file. The flow is
``soc2app.csv_import_views``'s."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods, require_POST

from people import imports
from people.forms import ImportForm
from soc2app.csv_import_views import ImportPages
from soc2app.uploads import accepts_uploads
from tenants import permissions
from tenants.permissions import Action

PREVIEW_ROWS = 200  # rows of each kind listed on the preview; the counts are complete


def _rows(plan: imports.Plan) -> dict:
    return {
        "creates": plan.to_create[:PREVIEW_ROWS],
        "updates": plan.to_update[:PREVIEW_ROWS],
        "preview_rows": PREVIEW_ROWS,
    }


PAGES = ImportPages(
    kind="people",
    action=Action.PEOPLE_MANAGE,
    form=ImportForm,
    max_bytes=imports.MAX_BYTES,
    plan=lambda request, data: imports.plan_import(request.organization, data),
    apply=imports.import_apply,
    upload_template="people/import.html",
    preview_template="people/import_preview.html",
    upload_url="people_import",
    confirm_url="people_import_confirm",
    done_url="people",
    upload_context={"columns": imports.COLUMNS, "max_rows": imports.MAX_ROWS},
    preview_rows=_rows,
)


@accepts_uploads
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, org_slug: str) -> HttpResponse:
    return PAGES.upload(request)


@require_POST
def import_confirm(request: HttpRequest, org_slug: str) -> HttpResponse:
    return PAGES.confirm(request)


def import_example(request: HttpRequest, org_slug: str) -> HttpResponse:
    permissions.require(request.membership, Action.PEOPLE_MANAGE)
    response = HttpResponse(imports.example_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="roster-example.csv"'
    return response
