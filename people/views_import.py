"""The roster's CSV import pages (managers): upload, preview (whom it adds and what it changes,
or every problem by line), confirm, and an example file. The flow is
``soc2app.csv_import_views``'s."""

from __future__ import annotations

from people import imports
from people.forms import ImportForm
from soc2app.csv_import_views import ImportPages
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
    example=imports.example_csv,
    example_name="roster-example.csv",
)


import_upload, import_confirm, import_example = PAGES.views()
