"""The vendor CSV import pages (managers): upload, preview (every row new, updated or
unchanged, with the fields it changes; or every problem by line), confirm, and the template.
The flow is ``soc2app.csv_import_views``'s."""

from __future__ import annotations

from soc2app.csv_import_views import ImportPages
from vendors import imports, services
from vendors.forms import ImportForm

PREVIEW_ROWS = 500  # rows listed on the preview; the counts are complete


def _rows(plan: imports.Plan) -> dict:
    rows = [{"line": line, "changes": plan.shown(line)} for line in plan.lines[:PREVIEW_ROWS]]
    return {"rows": rows, "more_rows": max(0, len(plan.lines) - PREVIEW_ROWS)}


def _moved(plan: imports.Plan) -> str:
    """The next review dates the import moved with a new criticality, if any."""
    moved = len(plan.rescheduled)
    if not moved:
        return ""
    return f" {moved} next review date{'s' if moved != 1 else ''} moved with the new criticality."


PAGES = ImportPages(
    kind="vendors",
    action=services.MANAGE,
    form=ImportForm,
    max_bytes=imports.MAX_BYTES,
    plan=lambda request, data: imports.plan_import(request.membership, data),
    apply=imports.import_apply,
    upload_template="vendors/import.html",
    preview_template="vendors/import_preview.html",
    upload_url="vendor_import",
    confirm_url="vendor_import_confirm",
    done_url="vendors",
    upload_context={"columns": imports.COLUMNS, "max_rows": imports.MAX_ROWS},
    preview_rows=_rows,
    done_note=_moved,
    example=imports.template_csv,
    example_name="vendors-template.csv",
)


import_upload, import_confirm, import_template = PAGES.views()
