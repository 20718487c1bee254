"""``render_report --audit ID --out PATH [--format pdf|csv|evidence-csv|xlsx|zip|oscal]``: the report
the UI produces, synchronously, with the same code (``reports.build``)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from controls.models import Audit
from reports.build import build_report
from reports.models import ReportKind
from tenants.context import org_scope

FORMATS = {
    "pdf": ReportKind.PDF,
    "csv": ReportKind.CSV,
    "evidence-csv": ReportKind.EVIDENCE_CSV,
    "xlsx": ReportKind.XLSX,
    "zip": ReportKind.PACKAGE,
    "oscal": ReportKind.OSCAL,
}


class Command(BaseCommand):
    help = "Render an audit's readiness report (or an export) to a file, synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--audit", required=True, help="The audit's id.")
        parser.add_argument("--out", required=True, help="Where to write the file.")
        parser.add_argument(
            "--format", default="pdf", help=f"One of {', '.join(FORMATS)} (default pdf)."
        )

    def handle(self, *args, audit: str, out: str, format: str, **options) -> None:
        kind = FORMATS.get(format.lower())
        if kind is None:
            raise CommandError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
        try:
            audit_id = int(audit)
        except ValueError:
            raise CommandError(f"--audit must be a number, got {audit!r}") from None
        row = (
            Audit.objects.dangerously_unscoped(reason="render_report command")
            .select_related("organization", "framework")
            .filter(pk=audit_id)
            .first()
            if 0 < audit_id < 2**63
            else None
        )
        if row is None:
            raise CommandError(f"no audit with id {audit_id}")
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"the folder {str(path.parent)!r} does not exist")
        with org_scope(row.organization):
            built = build_report(row, kind, path)
        pages = f", {built.pages} pages" if built.pages else ""
        self.stdout.write(f"{path} ({built.size:,} bytes{pages}) sha256 {built.sha256}")
