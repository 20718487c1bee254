"""The system role in tests (``tenants.rls.system``): a test-only ``BYPASSRLS`` login role.

pytest-django runs each test in a transaction on ``default``; a second connection could not
see its rows, so in tests ``tenants.rls`` sends system statements on that one shared
connection (``rls.shared_connection_role`` set: ``system_alias()`` is ``default``). When a test body runs as a role bound by
row-level security (``tests.rls_app_role``, ``as_app_role`` in ``tests/tenants/test_rls.py``),
``switch_role`` puts that shared connection on this role for the length of the system block
and back: only the superuser the tests connect as may ``SET ROLE`` to it (no application
role is granted it). Celery workers the tests start get it as their ``DATABASE_SYSTEM_URL``,
a real second connection as in production.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

ROLE = os.environ.get(
    "RLS_SYSTEM_ROLE_NAME", os.environ.get("RLS_APP_ROLE_NAME", "soc2_app_test") + "_system"
)
PASSWORD = os.environ.get("RLS_SYSTEM_ROLE_PASSWORD", "soc2-system-test")  # noqa: S105

_WHO = "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"


def create(connection: BaseDatabaseWrapper) -> None:
    """The role, with ``create_system_role``'s grants on the test database (committed)."""
    from tenants.management.commands.create_system_role import create_system_role

    create_system_role(ROLE, PASSWORD, connection.alias)


@contextlib.contextmanager
def switch_role(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """``SET ROLE`` to the system role for a system block when the connection's current role
    is bound by row-level security; back to that role afterwards."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(_WHO)
        role, can_bypass = cursor.fetchone()
        if can_bypass:
            yield
            return
        cursor.execute(f'SET ROLE "{ROLE}"')
    try:
        yield
    finally:
        # In a failed transaction this cannot run; its rollback restores the role instead.
        with contextlib.suppress(DatabaseError), connection.connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{role}"')
