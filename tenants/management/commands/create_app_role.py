"""Create (or update) the non-superuser role the application connects as under RLS."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from tenants.lookups import all_functions

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Only ever formatted with a name that matched ROLE_NAME.
_CREATE_IF_MISSING = (
    "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
    "THEN CREATE ROLE {ident}; END IF; END$$"
)


def role_statements(role: str, password: str | None, database: str) -> list[tuple[str, list]]:
    """SQL (with parameters) that makes ``role`` a plain DML role: no superuser, no BYPASSRLS,
    not the owner of anything, so row-level security applies to it."""
    login = "LOGIN" if password else "NOLOGIN"
    attrs = f"{login} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT"
    ident = f'"{role}"'
    statements: list[tuple[str, list]] = [
        (_CREATE_IF_MISSING.format(role=role, ident=ident), []),
        (f"ALTER ROLE {ident} {attrs}", []),
        (f'GRANT CONNECT ON DATABASE "{database}" TO {ident}', []),
        (f"GRANT USAGE ON SCHEMA public TO {ident}", []),
        (f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ident}", []),
        (f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {ident}", []),
        # Tables the migrating role creates later are granted too.
        (
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ident}",
            [],
        ),
        (
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {ident}",
            [],
        ),
    ]
    statements += activity_log_statements(ident)
    # The web's cross-organization lookups (``tenants.lookups``): this role may call them
    # (skipped before ``migrate`` has created them).
    statements += [
        (
            f"DO $$BEGIN IF to_regprocedure('{signature}') IS NOT NULL THEN "
            f"GRANT EXECUTE ON FUNCTION {signature} TO {ident}; END IF; END$$",
            [],
        )
        for signature in all_functions()
    ]
    if password:
        statements.append((f"ALTER ROLE {ident} PASSWORD %s", [password]))
    return statements


# The activity log is append-only for the application: after the general grants (which give
# it UPDATE and DELETE like every table), it keeps SELECT and INSERT, and UPDATE of ``actor_id``
# only (Django clears it when a user is deleted; the trigger of migration 0006 lets nothing
# else change, whatever the grants). Deleting an organization, which cascades to its log, is
# therefore for the owner role only. Skipped before ``migrate`` has created the table.
ACTIVITY_LOG_TABLE = "tenants_activityentry"
_IF_TABLE = (
    f"DO $$BEGIN IF to_regclass('{ACTIVITY_LOG_TABLE}') IS NOT NULL THEN {{sql}}; END IF; END$$"
)


def activity_log_statements(ident: str) -> list[tuple[str, list]]:
    table = ACTIVITY_LOG_TABLE
    return [
        (_IF_TABLE.format(sql=f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {ident}"), []),
        (_IF_TABLE.format(sql=f"GRANT SELECT, INSERT ON {table} TO {ident}"), []),
        (_IF_TABLE.format(sql=f"GRANT UPDATE (actor_id) ON {table} TO {ident}"), []),
    ]


def run_role_statements(
    statements: Callable[[str, str | None, str], list[tuple]],
    role: str,
    password: str | None,
    using: str,
) -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        for sql, params in statements(role, password, connection.settings_dict["NAME"]):
            cursor.execute(sql, params or None)


def create_app_role(role: str, password: str | None = None, using: str = DEFAULT_DB_ALIAS) -> None:
    run_role_statements(role_statements, role, password, using)


class RoleCommand(BaseCommand):
    """Shared arguments and checks of the commands that create a database role."""

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
            raise CommandError(f"{self.name} needs PostgreSQL (DATABASE_URL=postgres://...)")
        self.create(role, password, database)
        self.stdout.write(self.summary(role, "LOGIN" if password else "NOLOGIN"))

    name = ""

    def create(self, role: str, password: str | None, database: str) -> None:
        raise NotImplementedError

    def summary(self, role: str, kind: str) -> str:
        raise NotImplementedError


class Command(RoleCommand):
    name = "create_app_role"
    help = (
        "Create or update the PostgreSQL role the application connects as: not a superuser, "
        "no BYPASSRLS, DML on all tables and sequences except the activity log (SELECT and "
        "INSERT only). Run it as the owner (the role that migrates), after every migrate."
    )

    def create(self, role: str, password: str | None, database: str) -> None:
        create_app_role(role, password, database)

    def summary(self, role: str, kind: str) -> str:
        return (
            f"Role {role} ({kind}, no BYPASSRLS) has DML on all tables; "
            "the activity log: SELECT and INSERT only."
        )
