from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from criteria.catalog import catalog_load
from criteria.datafile import CatalogError


class Command(BaseCommand):
    help = (
        "Load or update the framework catalog (criteria, crosswalks, control library) from the "
        "data files shipped in criteria/data and controls/data. Idempotent: a second run "
        "changes nothing. A malformed file changes nothing either."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--framework",
            type=Path,
            action="append",
            help="A framework file instead of the shipped ones (repeatable).",
        )
        parser.add_argument(
            "--crosswalk",
            type=Path,
            action="append",
            help="A crosswalk file instead of the shipped ones (repeatable).",
        )
        parser.add_argument(
            "--library",
            type=Path,
            action="append",
            help="A control library file instead of the shipped ones (repeatable).",
        )

    def handle(
        self,
        *args: object,
        framework: list[Path] | None,
        crosswalk: list[Path] | None,
        library: list[Path] | None,
        **opts: object,
    ) -> None:
        try:
            report = catalog_load(frameworks=framework, crosswalks=crosswalk, libraries=library)
        except CatalogError as exc:
            raise CommandError(str(exc)) from exc
        if not report.changed:
            self.stdout.write("Catalog is up to date: nothing changed.")
            return
        for line in report.lines():
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("Catalog loaded."))
