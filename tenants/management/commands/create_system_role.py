"""Create (or update) the role system jobs connect as (``DATABASE_SYSTEM_URL``)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS

from tenants.management.commands.create_app_role import (
    RoleCommand,
    role_statements,
    run_role_statements,
)


def system_role_statements(role: str, password: str | None, database: str) -> list[tuple]:
    """The application role's grants, plus ``BYPASSRLS``: the freshness scan, sweeps and other
    system jobs read and write across organizations. Still no superuser, owner of nothing."""
    statements = role_statements(role, password, database)
    return [*statements, (f'ALTER ROLE "{role}" BYPASSRLS', [])]


def create_system_role(
    role: str, password: str | None = None, using: str = DEFAULT_DB_ALIAS
) -> None:
    run_role_statements(system_role_statements, role, password, using)


class Command(RoleCommand):
    name = "create_system_role"
    help = (
        "Create or update the PostgreSQL role system jobs connect as (DATABASE_SYSTEM_URL, "
        "worker and command processes only): the application role's grants plus BYPASSRLS. "
        "Run it as a superuser (only one may grant BYPASSRLS), after migrate."
    )

    def create(self, role: str, password: str | None, database: str) -> None:
        create_system_role(role, password, database)

    def summary(self, role: str, kind: str) -> str:
        return f"Role {role} ({kind}, BYPASSRLS) has DML on all tables."
