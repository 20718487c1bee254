"""Create (or update) the role system jobs connect as (``DATABASE_SYSTEM_URL``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from tenants.management.commands.create_app_role import ROLE_NAME, role_statements


def system_role_statements(role: str, password: str | None, database: str) -> list[tuple]:
    """The application role's grants, plus ``BYPASSRLS``: the freshness scan, sweeps and other
    system jobs read and write across organizations. Still no superuser, owner of nothing."""
    statements = role_statements(role, password, database)
    return [*statements, (f'ALTER ROLE "{role}" BYPASSRLS', [])]


def create_system_role(
    role: str, password: str | None = None, using: str = DEFAULT_DB_ALIAS
) -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        for sql, params in system_role_statements(role, password, connection.settings_dict["NAME"]):
            cursor.execute(sql, params or None)


class Command(BaseCommand):
    help = (
        "Create or update the PostgreSQL role system jobs connect as (DATABASE_SYSTEM_URL, "
        "worker and command processes only): the application role's grants plus BYPASSRLS. "
        "Run it as a superuser (only one may grant BYPASSRLS), after migrate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, help="Role name (lowercase, a-z0-9_).")
        parser.add_argument(
            "--password", help="Makes it a LOGIN role with this password (else NOLOGIN)."
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Connection alias.")

    def handle(
        self, *args: object, role: str, password: str | None, database: str, **opts: object
    ) -> None:
        if not ROLE_NAME.match(role):
            raise CommandError(f"--role: {role!r} is not a valid role name (a-z, 0-9, _)")
        if database not in connections:
            raise CommandError(f"--database: no connection named {database!r}")
        if connections[database].vendor != "postgresql":
            raise CommandError("create_system_role needs PostgreSQL (DATABASE_URL=postgres://...)")
        create_system_role(role, password, database)
        kind = "LOGIN" if password else "NOLOGIN"
        self.stdout.write(f"Role {role} ({kind}, BYPASSRLS) has DML on all tables.")
