from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from tenants import rls


class Command(BaseCommand):
    help = (
        "Enable and force PostgreSQL row-level security, with the tenant_isolation policy, on "
        "every tenant-owned table (idempotent; migrate does it too)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Connection alias.")

    def handle(self, *args: object, database: str, **opts: object) -> None:
        if database not in connections:
            raise CommandError(f"--database: no connection named {database!r}")
        if connections[database].vendor != "postgresql":
            self.stdout.write("Not PostgreSQL: row-level security does not apply.")
            return
        tables = rls.apply(database)
        self.stdout.write(f"Row-level security applied to {len(tables)} tables.")
