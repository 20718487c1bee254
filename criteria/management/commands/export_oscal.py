from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from criteria.oscal import catalog_to_oscal
from criteria.selectors import framework_get


class Command(BaseCommand):
    help = "Write the framework catalog as an OSCAL catalog JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", required=True, type=Path, help="Where to write the JSON file ('-' for stdout)."
        )
        parser.add_argument(
            "--framework", help="Framework key (default: settings.CATALOG_FRAMEWORK)."
        )

    def handle(self, *args: object, out: Path, framework: str | None, **opts: object) -> None:
        try:
            fw = framework_get(framework)
        except Http404 as exc:
            raise CommandError(
                f"no framework {framework or 'by default'} is loaded; run load_catalog first"
            ) from exc
        text = json.dumps(catalog_to_oscal(fw), indent=2, ensure_ascii=False)
        if str(out) == "-":
            self.stdout.write(text)
            return
        if out.is_dir():
            raise CommandError(f"--out {out} is a directory; give a file name")
        if not out.parent.exists():
            raise CommandError(f"--out: folder {out.parent} does not exist")
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--out: cannot write {out}: {exc.strerror}") from exc
        self.stderr.write(f"Wrote {out} ({len(text):,} bytes)")
