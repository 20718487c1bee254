"""PostgreSQL row-level security on every tenant-owned table (a no-op on other databases).

Defense in depth under ``TenantManager``: even a query that forgets the tenant filter (raw
SQL, a related lookup, a new model's code) sees only the current organization's rows, and an
insert or update for another organization is refused. It only holds when the application
connects as a role that is neither a superuser nor ``BYPASSRLS`` (``create_app_role``).

* Policies: every concrete ``TenantModel`` table (found in the app registry, so a new table
  cannot forget it) gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` and two permissive
  policies: ``tenant_isolation`` (rows of ``app.current_org``; nothing when it is unset) and
  ``system_bypass`` (everything while ``app.bypass_rls`` is ``on``). Applied after every
  ``migrate`` (``post_migrate``) and by ``manage.py rls_apply``; idempotent.
* The settings: the current organization (``tenants.context``) goes into ``app.current_org``
  on the default connection (session level: Django runs in autocommit outside ``atomic``);
  ``bypass(reason)`` sets ``app.bypass_rls`` for a block, logged. Both are sent right before
  the next query that needs them (below).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

logger = logging.getLogger("tenants.rls")

POLICY = "tenant_isolation"
BYPASS_POLICY = "system_bypass"
# Sub-selects: evaluated once per statement, not per row. An unset organization is NULL, so
# ``organization_id = NULL`` matches nothing: a forgotten scope fails closed.
ORG_EXPR = "(SELECT NULLIF(current_setting('app.current_org', true), '')::bigint)"
BYPASS_EXPR = "(SELECT current_setting('app.bypass_rls', true) = 'on')"

_bypass_depth: ContextVar[int] = ContextVar("rls_bypass_depth", default=0)


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
        f"DROP POLICY IF EXISTS {BYPASS_POLICY} ON {quoted}",
        f"CREATE POLICY {BYPASS_POLICY} ON {quoted} USING ({BYPASS_EXPR}) "
        f"WITH CHECK ({BYPASS_EXPR})",
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


# -- the per-connection settings -------------------------------------------------------------
#
# Sent lazily: an execute wrapper puts the wanted values on the connection right before each
# application query, in one statement and only when they differ from what the connection
# holds. A request then costs one statement before its first query (and one more around a
# bypass), not two per change; nothing is sent for a change that no query follows.
#
# What the connection holds is remembered on it (``_rls_held``) and forgotten whenever a
# rollback may have reverted it: PostgreSQL undoes a session-level ``set_config`` made in a
# transaction or savepoint that rolls back. ``tenants.backends.postgresql`` forgets on every
# rollback (and on a failed transaction's COMMIT); a new connection starts unknown. On any
# other PostgreSQL backend (nobody tells it of rollbacks) the values go before every query.

SET_BOTH = (
    "SELECT set_config('app.current_org', %s, false), set_config('app.bypass_rls', %s, false)"
)


def wanted() -> tuple[str, str]:
    """The values the current context wants: (organization id or "", "on" or "")."""
    from tenants.context import current_org_id

    org_id = current_org_id()
    return ("" if org_id is None else str(org_id), "on" if _bypass_depth.get() else "")


def forget(connection: BaseDatabaseWrapper) -> None:
    """What the connection holds is unknown (after a rollback, on a new connection)."""
    connection._rls_held = None


def ensure(connection: BaseDatabaseWrapper) -> None:
    """Put the wanted values on ``connection`` unless it holds them already."""
    values = wanted()
    held = getattr(connection, "_rls_held", None)
    if held == values and getattr(connection, "rls_tracks_rollbacks", False):
        return
    # Through the driver's own cursor: plumbing, not an application query (query counts and
    # execute wrappers do not see it). ``false``: session level, see the module docstring.
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(SET_BOTH, values)
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


def bypass_active() -> bool:
    return _bypass_depth.get() > 0


@contextmanager
def bypass(reason: str, *, log: bool = True) -> Iterator[None]:
    """Run a block that legitimately reads or writes across organizations (system jobs,
    lookups by a global key). Logged with ``reason`` (``dangerously_unscoped`` logs when the
    queryset is made, so its evaluation does not log again); nests."""
    if not reason:
        raise ValueError("bypass() needs a reason")
    if log:
        logger.info("row-level security bypass: %s", reason)
    token = _bypass_depth.set(_bypass_depth.get() + 1)
    try:
        yield
    finally:
        _bypass_depth.reset(token)
