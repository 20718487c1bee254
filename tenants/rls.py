"""PostgreSQL row-level security on every tenant-owned table (a no-op on other databases).

Defense in depth under ``TenantManager``: even a query that forgets the tenant filter (raw
SQL, a related lookup, a new model's code) sees only the current organization's rows, and an
insert or update for another organization is refused. It holds because the application
connects as a role that is neither a superuser nor ``BYPASSRLS`` (``create_app_role``), and
nothing that role can do from a session switches it off.

* Policy: every concrete ``TenantModel`` table (found in the app registry, so a new table
  cannot forget it) gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and one policy,
  ``tenant_isolation``: rows of ``app.current_org``, nothing when it is unset. Applied after
  every ``migrate`` (``post_migrate``) and by ``manage.py rls_apply``; idempotent (it also
  drops the ``system_bypass`` policy older versions had, which trusted a setting any session
  could set).
* The setting: the current organization (``tenants.context``) goes into ``app.current_org``
  on the default connection right before the next query that needs it (below).
* Crossing organizations, two ways and no other:
  - web lookups by a global key (an API key by its prefix, an invitation by its token, a
    user's own memberships) call narrow ``SECURITY DEFINER`` functions owned by the tables'
    owner, one per lookup, returning only what it needs (``tenants.lookups``);
  - system jobs (the freshness scan, sweeps, rescans, report generation by id) run their few
    cross-organization statements inside ``system(reason)``, logged, on the ``system``
    database alias: a second connection as a role with ``BYPASSRLS`` (``create_system_role``,
    ``DATABASE_SYSTEM_URL``), configured in worker and command processes only. Everything
    scoped to one organization, in workers too, stays on the default connection.
  Without ``DATABASE_SYSTEM_URL`` (SQLite, development) and in tests, system statements share
  the default connection; a system block then checks that the role can bypass row-level security
  and fails loudly when it cannot (a web process, or a worker without the variable) instead
  of silently seeing nothing.
* Migrations run as the tables' owner; a data migration's backfill lifts ``FORCE`` on its
  tables for the length of its own transaction (``owner_backfill``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

logger = logging.getLogger("tenants.rls")

POLICY = "tenant_isolation"
# Dropped wherever it is still found: it admitted every row while ``app.bypass_rls`` was on.
OLD_BYPASS_POLICY = "system_bypass"
# A sub-select: evaluated once per statement, not per row. An unset organization is NULL, so
# ``organization_id = NULL`` matches nothing: a forgotten scope fails closed.
ORG_EXPR = "(SELECT NULLIF(current_setting('app.current_org', true), '')::bigint)"
SYSTEM = "system"  # the database alias of system jobs (soc2app.settings)

_system_depth: ContextVar[int] = ContextVar("rls_system_depth", default=0)


def tenant_tables() -> list[str]:
    """The database tables of every concrete, managed ``TenantModel``."""
    from tenants.scoping import TenantModel

    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if issubclass(model, TenantModel)
            and model._meta.managed
            and not model._meta.proxy
            and not model._meta.abstract
        }
    )


def policy_statements(table: str) -> list[str]:
    quoted = f'"{table}"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {quoted}",
        f"CREATE POLICY {POLICY} ON {quoted} USING (organization_id = {ORG_EXPR}) "
        f"WITH CHECK (organization_id = {ORG_EXPR})",
        f"DROP POLICY IF EXISTS {OLD_BYPASS_POLICY} ON {quoted}",
    ]


def apply(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Enable, force and (re)create the policies on every tenant table; returns the tables.

    Idempotent, in one transaction. Nothing happens on a database other than PostgreSQL.
    """
    from django.db import transaction

    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    tables = [t for t in tenant_tables() if t in existing]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for table in tables:
            for sql in policy_statements(table):
                cursor.execute(sql)
    return tables


def on_post_migrate(sender, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:  # noqa: ANN001
    tables = apply(using)
    if tables:
        logger.info("row-level security applied to %d tables", len(tables))


# -- the per-connection setting --------------------------------------------------------------
#
# Sent lazily: an execute wrapper puts the wanted value on the connection right before each
# application query, in one statement and only when it differs from what the connection
# holds. A request then costs one statement before its first query, not one per change;
# nothing is sent for a change that no query follows. Session level (``false``): Django runs
# in autocommit outside ``atomic``.
#
# What the connection holds is remembered on it (``_rls_held``) and forgotten whenever a
# rollback may have reverted it: PostgreSQL undoes a session-level ``set_config`` made in a
# transaction or savepoint that rolls back. ``tenants.backends.postgresql`` forgets on every
# rollback (and on a failed transaction's COMMIT); a new connection starts unknown. On any
# other PostgreSQL backend (nobody tells it of rollbacks) the value goes before every query.

SET_ORG = "SELECT set_config('app.current_org', %s, false)"


def wanted() -> str:
    """The organization id the current context wants on the connection ("" for none)."""
    from tenants.context import current_org_id

    org_id = current_org_id()
    return "" if org_id is None else str(org_id)


def forget(connection: BaseDatabaseWrapper) -> None:
    """What the connection holds is unknown (after a rollback, on a new connection)."""
    connection._rls_held = None


def ensure(connection: BaseDatabaseWrapper) -> None:
    """Put the wanted organization on ``connection`` unless it holds it already."""
    values = wanted()
    held = getattr(connection, "_rls_held", None)
    if held == values and getattr(connection, "rls_tracks_rollbacks", False):
        return
    # Through the driver's own cursor: plumbing, not an application query (query counts and
    # execute wrappers do not see it). ``false``: session level, see the module docstring.
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(SET_ORG, [values])
    connection._rls_held = values


# Django's savepoint statements read no table, and may run in a failed transaction (where
# nothing else may be sent before the rollback).
SAVEPOINT_SQL = ("SAVEPOINT ", "ROLLBACK TO SAVEPOINT ", "RELEASE SAVEPOINT ")


def _before_query(execute, sql, params, many, context):  # noqa: ANN001 (Django's wrapper API)
    if not (isinstance(sql, str) and sql.startswith(SAVEPOINT_SQL)):
        ensure(context["connection"])
    return execute(sql, params, many, context)


def on_connection_created(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:  # noqa: ANN001
    if connection.vendor == "postgresql" and connection.alias == DEFAULT_DB_ALIAS:
        forget(connection)
        if _before_query not in connection.execute_wrappers:
            connection.execute_wrappers.insert(0, _before_query)


connection_created.connect(on_connection_created, dispatch_uid="tenants.rls.connection")


# -- system jobs -----------------------------------------------------------------------------

# Set by the tests only (``tests.system_role``): system statements then share the default
# connection (a second one could not see a test's uncommitted rows), and this context manager
# factory puts that connection on a system role for the block when its own role is bound by
# row-level security. None in every other process.
shared_connection_role: Callable[[BaseDatabaseWrapper], AbstractContextManager] | None = None

NO_SYSTEM_CONNECTION = (
    "A system job needs the system database connection, but the role of this one ({role}) "
    "is bound by row-level security and would see no organization's rows. Set "
    "DATABASE_SYSTEM_URL to the system role's URL (manage.py create_system_role) in worker "
    "and command processes; web processes must not run system jobs ({reason})."
)
_CAN_BYPASS = (
    "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
)


def system_alias() -> str:
    """The alias system statements go to: ``system``, or ``default`` when that would be the
    same database as the same role (``DATABASE_SYSTEM_URL`` unset) or in tests: one
    connection then, so a system statement sees its caller's transaction (a test's rows, a
    SQLite file's lock) instead of waiting on it from a second connection."""
    if not settings.DATABASE_SYSTEM_URL or shared_connection_role is not None:
        return DEFAULT_DB_ALIAS
    return SYSTEM


def system_active() -> bool:
    return _system_depth.get() > 0


def _require_bypass(connection: BaseDatabaseWrapper, reason: str) -> None:
    """Fail loudly when ``connection``'s role is bound by row-level security: a system job
    there would silently see nothing. Through the driver's cursor (plumbing, uncounted)."""
    if connection.vendor != "postgresql":
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(_CAN_BYPASS)
        role, can_bypass = cursor.fetchone()
    if not can_bypass:
        raise ImproperlyConfigured(NO_SYSTEM_CONNECTION.format(role=role, reason=reason))


@contextmanager
def system(reason: str, *, log: bool = True) -> Iterator[BaseDatabaseWrapper]:
    """Run a block of system statements across organizations (scans, sweeps, lookups by id
    in workers) on the system connection, which it yields: the caller sends its statements
    there explicitly (``connection.cursor()``, ``.using(connection.alias)``;
    ``dangerously_unscoped`` querysets do it themselves). Logged with ``reason``; nests.
    With ``DATABASE_SYSTEM_URL``, statements on the default connection inside the block stay
    bound by row-level security.
    """
    if not reason:
        raise ValueError("system() needs a reason")
    if log:
        logger.info("row-level security: system statements: %s", reason)
    connection = connections[system_alias()]
    outermost = _system_depth.get() == 0
    token = _system_depth.set(_system_depth.get() + 1)
    try:
        switch = outermost and shared_connection_role is not None
        with shared_connection_role(connection) if switch else nullcontext():
            if outermost:
                _require_bypass(connection, reason)
            yield connection
    finally:
        _system_depth.reset(token)


@contextmanager
def owner_backfill(connection: BaseDatabaseWrapper, *tables: str) -> Iterator[None]:
    """A data migration's backfill across organizations: ``FORCE ROW LEVEL SECURITY`` is
    lifted on ``tables`` so the migrating role, their owner, reads and writes every row.
    Inside the migration's transaction (DDL is transactional in PostgreSQL and the ALTER
    locks the table until it ends), so no other session ever sees the table unforced; a
    second connection could not be used here, it would wait on that very lock."""
    from django.db import transaction

    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # Only for an owner bound by row-level security (not a superuser nor BYPASSRLS).
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r' "
            "AND relforcerowsecurity AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE "
            "rolname = current_user AND (rolsuper OR rolbypassrls))",
            [list(tables)],
        )
        forced = [row[0] for row in cursor.fetchall()]
        for table in forced:
            cursor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        yield
        for table in forced:
            cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
