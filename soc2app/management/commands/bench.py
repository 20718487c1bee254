"""``manage.py bench``: seed realistic data in a throwaway database and print figures.

It creates its own database (the test database of the configured connection, e.g.
``test_soc2app`` on PostgreSQL), migrates it and loads the catalog, runs each section, prints
a table and drops the database again: the development data are never touched.
"""

from __future__ import annotations

import importlib
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from soc2app.bench.common import Results

SECTIONS = {
    "readiness": "soc2app.bench.readiness",
    "home": "soc2app.bench.home",
    "evidence": "evidence.bench",
    "reports": "reports.bench",
    "samples": "reports.bench_sampling",
    "people": "people.bench",
    "policies": "policies.bench",
    "api": "soc2app.bench.api",
    "monitoring": "monitoring.bench",
    "risks": "risks.bench",
}


class Command(BaseCommand):
    help = "Seed realistic data in a throwaway database and print performance figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            choices=sorted(SECTIONS),
            help="Run only this section (repeatable). Default: all.",
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply data sizes (0.01 for a quick smoke run). Default 1.",
        )
        parser.add_argument(
            "--keepdb", action="store_true", help="Keep the benchmark database afterwards."
        )

    def handle(self, *args, only: list[str] | None, scale: float, keepdb: bool, **opts) -> None:
        if not 0 < scale <= 10:
            raise CommandError("--scale must be between 0 and 10")
        if connection.vendor != "postgresql":
            self.stderr.write(
                "warning: the figures that matter are PostgreSQL's; set DATABASE_URL=postgres://..."
            )
        modules = []
        for name in only or SECTIONS:
            try:
                modules.append((name, importlib.import_module(SECTIONS[name])))
            except ImportError as exc:
                self.stderr.write(f"skipping {name}: {exc}")
        old_name = connection.settings_dict["NAME"]
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keepdb)
        results = Results()
        started = time.perf_counter()
        try:
            from criteria.catalog import catalog_load

            catalog_load()
            self.stdout.write(f"benchmark database: {connection.settings_dict['NAME']}")
            for name, module in modules:
                self.stdout.write(f"== {name}")
                module.run(results, scale=scale)
        finally:
            if not keepdb:
                connection.creation.destroy_test_db(old_name, verbosity=0)
        self.stdout.write("")
        self.stdout.write(results.table())
        self.stdout.write(f"\n(total {time.perf_counter() - started:.0f} s, scale {scale})")
