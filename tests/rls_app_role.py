"""Run the test suite as the application's database role, under row-level security.

Opt-in plugin: ``RLS_APP_ROLE=1 pytest -p tests.rls_app_role`` on PostgreSQL. Fixtures set up
their data as the superuser (as an owner or a migration would); each test's body then runs as a
non-superuser role without BYPASSRLS (``create_app_role``), so row-level security applies to
everything the body does: a view or service that reads or writes outside its organization's
scope fails. Celery workers started by tests connect as that role as well (and as the test
system role for their system statements, ``tests.system_role``). System blocks in test bodies
(``tenants.rls.system``) switch the shared connection to the test system role and back.
"""

from __future__ import annotations

import contextlib
import os

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

ROLE = os.environ.get("RLS_APP_ROLE_NAME", "soc2_app_test")
# A LOGIN role, so the Celery workers the tests start (tests/workers.py) connect as it too and
# run their tasks under row-level security, as in production. Test-only, on a local server.
PASSWORD = os.environ.get("RLS_APP_ROLE_PASSWORD", "soc2-app-test")  # noqa: S105
ENABLED = os.environ.get("RLS_APP_ROLE") == "1"
_ready = False


def active() -> bool:
    """Whether test bodies (and the workers they start) run as the application's role."""
    return _ready


def _set_role(sender, connection, **kwargs) -> None:  # noqa: ANN001
    if connection.vendor == "postgresql" and connection.connection is not None:
        with connection.connection.cursor() as cursor:
            cursor.execute(f'SET ROLE "{ROLE}"')


def _reset_role() -> None:
    if connection.connection is not None:
        with connection.connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.fixture(scope="session", autouse=True)
def _rls_app_role(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    global _ready
    if ENABLED and connection.vendor == "postgresql":
        from tenants.management.commands.create_app_role import (
            activity_log_statements,
            create_app_role,
        )

        with django_db_blocker.unblock():
            create_app_role(ROLE, PASSWORD)
            with connection.cursor() as cursor:  # transactional tests flush the tables
                cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{ROLE}"')
                # ...but not the activity log, which is append-only for the role (its flush
                # runs as the owner).
                for sql, params in activity_log_statements(f'"{ROLE}"'):
                    cursor.execute(sql, params)
        _factories_bypass()
        _ready = True
    yield


def _factories_bypass() -> None:
    """Factories build test data (setup, not application code): they write as the test
    system role (``rls.system``), whatever the current organization."""
    from factory.base import BaseFactory

    from tenants import rls

    original = BaseFactory._generate.__func__

    def _generate(cls, strategy, params):  # noqa: ANN001, ANN202
        with rls.system("test data from a factory", log=False):
            return original(cls, strategy, params)

    BaseFactory._generate = classmethod(_generate)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``owner`` do what only the tables' owner may (create a trigger...): not
    here. CI's PostgreSQL stage runs them (``-m "browser or owner"``), as the owner."""
    if ENABLED and item.get_closest_marker("owner") is not None:
        pytest.skip("needs the tables' owner (marked owner): runs in the PostgreSQL stage")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # noqa: ANN201
    if not _ready:
        return (yield)
    connection_created.connect(_set_role, dispatch_uid="tests.rls_app_role")
    _set_role(None, connection)
    try:
        return (yield)
    finally:
        connection_created.disconnect(dispatch_uid="tests.rls_app_role")
        with contextlib.suppress(Exception):  # aborted transaction: its rollback resets it
            _reset_role()
