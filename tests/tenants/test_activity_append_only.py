"""The activity log is append-only for the application's database role: SELECT and INSERT on
the table (``create_app_role``), and a trigger (migration 0006) that refuses UPDATE, DELETE and
TRUNCATE from any role but the owner even when something grants them again."""

from __future__ import annotations

import os

import pytest
from django.db import DatabaseError, connection, transaction

from tenants.activity import Actor, activity_record, chain_verify
from tenants.context import org_scope
from tenants.management.commands.create_app_role import create_app_role
from tenants.models import ActivityEntry
from tests.tenants.activity_tamper import as_owner, record

pytestmark = pytest.mark.postgres
# Roles are shared by every database of the server: one name per checkout running tests.
ROLE = os.environ.get("RLS_APP_ROLE_NAME", "soc2_app_test") + "_log"
TABLE = "tenants_activityentry"


@pytest.fixture
def as_app_role(db):
    """The rest of the test runs as the application's role; the role, its grants and the
    ``SET LOCAL ROLE`` end with the test's transaction."""
    create_app_role(ROLE)
    with connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{ROLE}"')
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def _refused(sql: str, params: list, match: str = "permission denied|append-only") -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic():
        with connection.cursor() as cursor:
            # Else TRUNCATE fails first on the test transaction's "pending trigger events"
            # (deferred foreign key checks), before its privileges or triggers are looked at.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(sql, params)


def test_the_app_role_may_only_read_and_append(as_app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(current_user, %s, 'SELECT'), "
            "has_table_privilege(current_user, %s, 'INSERT'), "
            "has_table_privilege(current_user, %s, 'UPDATE'), "
            "has_table_privilege(current_user, %s, 'DELETE'), "
            "has_column_privilege(current_user, %s, 'actor_id', 'UPDATE'), "
            "has_column_privilege(current_user, %s, 'entry_hash', 'UPDATE')",
            [TABLE] * 6,
        )
        assert cursor.fetchone() == (True, True, False, False, True, False)


def test_the_app_role_cannot_update_delete_or_truncate_the_log(org, as_app_role):
    entries = record(org, 3)  # appending works
    with org_scope(org):
        _refused("UPDATE tenants_activityentry SET action = 'view' WHERE id = %s", [entries[1].pk])
        _refused(
            "UPDATE tenants_activityentry SET entry_hash = %s WHERE id = %s",
            ["0" * 64, entries[1].pk],
        )
        _refused("DELETE FROM tenants_activityentry WHERE id = %s", [entries[1].pk])
        _refused("TRUNCATE tenants_activityentry", [])
        assert ActivityEntry.objects.for_org(org).count() == 3
    assert chain_verify(org) == (3, None)


def test_grants_given_again_do_not_open_the_log(org, as_app_role):
    """``GRANT ... ON ALL TABLES`` or default privileges re-granting the role: the trigger."""
    entries = record(org, 2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (role,) = cursor.fetchone()
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(f'GRANT UPDATE, DELETE, TRUNCATE ON {TABLE} TO "{role}"')
    with org_scope(org):
        _refused(
            "UPDATE tenants_activityentry SET action = 'view' WHERE id = %s",
            [entries[0].pk],
            "append",
        )
        _refused("DELETE FROM tenants_activityentry WHERE id = %s", [entries[0].pk], "append-only")
        _refused("TRUNCATE tenants_activityentry", [], "append-only")
    assert chain_verify(org) == (2, None)


def test_deleting_a_user_clears_the_actor_of_their_entries(org, manager, as_app_role):
    user = manager.user
    entry = activity_record(
        organization=org, actor=Actor.for_user(user), action="update", object_type="x"
    )
    with org_scope(org):
        # Only clearing the user id is allowed (Django's SET_NULL), not pointing it elsewhere.
        _refused(
            "UPDATE tenants_activityentry SET actor_id = %s WHERE id = %s", [user.pk + 1, entry.pk]
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tenants_activityentry SET actor_id = NULL WHERE id = %s", [entry.pk]
            )
        stored = ActivityEntry.objects.for_org(org).get(pk=entry.pk)
    assert stored.actor_id is None and stored.actor_label == user.email
    assert chain_verify(org) == (1, None)  # the user id is not hashed, the label is
