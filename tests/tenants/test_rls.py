"""PostgreSQL row-level security (``tenants.rls``): every tenant table has its policy, and the
application's role sees only the current organization's rows even through raw SQL."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from controls.models import Control
from tenants import rls
from tenants.context import org_scope
from tests.factories import ControlFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def rows(org, other_org):
    with rls.system("test data"):
        mine = [ControlFactory(organization=org, title=f"Acme control {i}") for i in range(3)]
        theirs = [ControlFactory(organization=other_org, title="Globex secret control")]
    return mine, theirs


def _raw_ids(sql: str = "SELECT id FROM controls_control") -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {row[0] for row in cursor.fetchall()}


def test_every_tenant_table_has_forced_rls_and_the_policy(db):
    tables = rls.tenant_tables()
    assert "controls_control" in tables and "tenants_activityentry" in tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relname = ANY(%s) AND relkind = 'r'",
            [tables],
        )
        flags = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
        cursor.execute(
            "SELECT tablename, policyname, qual, with_check FROM pg_policies "
            "WHERE schemaname = current_schema()"
        )
        policies = {(t, p): (q, c) for t, p, q, c in cursor.fetchall()}
    missing = [t for t in tables if flags.get(t) != (True, True)]
    assert not missing, f"tables without ENABLE + FORCE ROW LEVEL SECURITY: {missing}"
    for table in tables:
        qual, check = policies[(table, rls.POLICY)]
        assert "app.current_org" in qual and "app.current_org" in check, table
        # The only policy: nothing a session can set admits other organizations' rows.
        assert (table, rls.OLD_BYPASS_POLICY) not in policies, table
        assert [p for t, p in policies if t == table] == [rls.POLICY], table


def test_apply_is_idempotent(db):
    with connection.cursor() as cursor:  # as the owner, even under ``tests.rls_app_role``
        cursor.execute("RESET ROLE")
    assert rls.apply() == rls.apply() == rls.tenant_tables()


def test_the_app_role_is_not_privileged(as_app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
        )
        assert cursor.fetchone() == (False, False)


def test_unscoped_raw_sql_sees_only_the_current_organization(org, other_org, rows, as_app_role):
    mine, theirs = rows
    assert _raw_ids() == set()  # no organization set: nothing, not everything
    with org_scope(org):
        assert _raw_ids() == {c.pk for c in mine}
        # Even Django's own unfiltered manager cannot reach the other organization.
        assert set(Control._base_manager.values_list("pk", flat=True)) == {c.pk for c in mine}
    with org_scope(other_org):
        assert _raw_ids() == {c.pk for c in theirs}
    assert _raw_ids() == set()


def test_writes_for_another_organization_are_refused(org, other_org, rows, as_app_role):
    mine, theirs = rows
    with org_scope(org):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            ControlFactory.build(organization=other_org).save()
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE controls_control SET organization_id = %s WHERE id = %s",
                    [other_org.pk, mine[0].pk],
                )
        with connection.cursor() as cursor:  # another organization's rows are invisible
            cursor.execute("DELETE FROM controls_control WHERE id = %s", [theirs[0].pk])
            assert cursor.rowcount == 0
    with org_scope(other_org):
        assert _raw_ids() == {theirs[0].pk}


def test_a_page_under_the_app_role_shows_only_its_organization(
    org, manager, rows, client_for, as_app_role
):
    response = client_for(manager).get(reverse("control_list", kwargs={"org_slug": org.slug}))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme control 0" in body and "Acme control 2" in body
    assert "Globex secret control" not in body


def test_system_block_reads_across_organizations_and_is_logged(rows, as_app_role, caplog):
    mine, theirs = rows
    everything = {c.pk for c in mine + theirs}
    with caplog.at_level(logging.INFO, logger="tenants"):
        with rls.system("test: system-wide report") as system:
            assert system.alias == "default"  # tests: the system alias mirrors default
            assert _raw_ids() == everything
        assert _raw_ids() == set()  # ends with the block
        unscoped = Control.objects.dangerously_unscoped(reason="test: all controls")
        assert set(unscoped.values_list("pk", flat=True)) == everything
        assert unscoped.count() == len(everything)
        assert _raw_ids() == set()
    messages = [r.getMessage() for r in caplog.records]
    assert any("system statements: test: system-wide report" in m for m in messages)
    assert any("test: all controls" in m for m in messages)


def test_system_block_needs_a_reason():
    with pytest.raises(ValueError):
        with rls.system(""):
            pass


class _Undo(Exception):
    pass


def test_settings_hold_after_a_rolled_back_savepoint(org, other_org, rows, as_app_role):
    """PostgreSQL undoes a ``set_config`` made in a savepoint that rolls back; the next query
    must not trust what the connection was last told."""
    mine, theirs = rows
    with org_scope(org):
        assert _raw_ids() == {c.pk for c in mine}
        with org_scope(other_org):
            with pytest.raises(_Undo), transaction.atomic():
                assert _raw_ids() == {c.pk for c in theirs}  # set inside the savepoint
                raise _Undo
            # The savepoint's rollback put the server back on ``org``: sent again.
            assert _raw_ids() == {c.pk for c in theirs}
        assert _raw_ids() == {c.pk for c in mine}
    with rls.system("test: rollback inside a system block"):
        with pytest.raises(_Undo), transaction.atomic():
            assert len(_raw_ids()) == len(mine) + len(theirs)
            raise _Undo
        assert len(_raw_ids()) == len(mine) + len(theirs)
    assert _raw_ids() == set()


def test_one_statement_sets_the_context_and_only_when_it_changes(org, other_org, as_app_role):
    sent: list[str] = []
    real = rls.ensure

    def counting(connection):  # noqa: ANN001
        held = getattr(connection, "_rls_held", None)
        real(connection)
        if connection._rls_held != held:
            sent.append(connection._rls_held)

    with mock.patch.object(rls, "ensure", counting):
        _raw_ids()
        with org_scope(org):
            _raw_ids()
            _raw_ids()
            with org_scope(other_org):
                pass  # no query: nothing sent
        with org_scope(org):
            _raw_ids()
    # The fixture's queries left ""; only the first query in ``org`` changes it.
    assert sent == [str(org.pk)]


def _current_org_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.current_org', true)")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_settings_hold_after_a_failed_transaction_commits(org, other_org):
    """A statement failed inside ``atomic`` and its error was caught: leaving the block
    COMMITs, which PostgreSQL turns into a rollback of the transaction's settings too."""
    with org_scope(org):
        assert _current_org_setting() == str(org.pk)
        with org_scope(other_org):
            with transaction.atomic():
                assert _current_org_setting() == str(other_org.pk)  # set in the transaction
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT 1 / 0")
                except DatabaseError:
                    pass  # caught inside the block: Django commits on the way out
            assert _current_org_setting() == str(other_org.pk)
