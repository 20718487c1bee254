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
* The settings: ``tenants.context.activate`` / ``deactivate`` put the current organization
  in ``app.current_org`` on the default connection (session level: Django runs in autocommit
  outside ``atomic``); ``bypass(reason)`` sets ``app.bypass_rls`` for a block, logged. A new
  connection gets the current values (``connection_created``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
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


def _raw_set(connection: BaseDatabaseWrapper, name: str, value: str) -> None:
    # Through the driver's own cursor: plumbing, not an application query (query counts and
    # execute wrappers do not see it). ``false``: session level, see the module docstring.
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [name, value])


def _apply_current(connection: BaseDatabaseWrapper) -> None:
    from tenants.context import current_org_id

    org_id = current_org_id()
    _raw_set(connection, "app.current_org", "" if org_id is None else str(org_id))
    _raw_set(connection, "app.bypass_rls", "on" if _bypass_depth.get() else "")


def _sync(name: str, value: str) -> None:
    """Set ``name`` on the default connection if it is open (a new one gets it on connect)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql" or connection.connection is None:
        return
    try:
        _raw_set(connection, name, value)
    except DatabaseError:  # an aborted transaction: its rollback restores the old value
        logger.warning("could not set %s on the database connection", name, exc_info=True)


def set_current_org(org_id: int | None) -> None:
    _sync("app.current_org", "" if org_id is None else str(org_id))


def on_connection_created(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:  # noqa: ANN001
    if connection.vendor == "postgresql" and connection.alias == DEFAULT_DB_ALIAS:
        _apply_current(connection)


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
    if _bypass_depth.get() == 1:
        _sync("app.bypass_rls", "on")
    try:
        yield
    finally:
        _bypass_depth.reset(token)
        if _bypass_depth.get() == 0:
            _sync("app.bypass_rls", "")
