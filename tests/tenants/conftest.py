"""Fixtures of the tenants tests: the webhook receiver (tests/webhook_receiver.py), and a
test body running as a plain DML role."""

import pytest
from django.db import connection

from tenants.management.commands.create_app_role import create_app_role
from tests.webhook_receiver import allow_private, endpoint, receiver  # noqa: F401

APP_ROLE = "soc2_app_rls_test"


@pytest.fixture
def as_app_role(db):
    """The rest of the test runs as a plain DML role (no superuser, no BYPASSRLS): the
    role, its grants and the ``SET LOCAL ROLE`` all end with the test's transaction."""
    create_app_role(APP_ROLE)
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{APP_ROLE}"')
    yield APP_ROLE
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
