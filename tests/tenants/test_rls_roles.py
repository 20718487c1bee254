"""Who may cross organizations (``tenants.rls``, ``tenants.lookups``): the web role cannot
switch row-level security off; its three lookups by a global key go through database
functions; system jobs go through the system role's connection, and fail loudly without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from controls.models import Control
from evidence.models import EvidenceVersion
from tenants import rls
from tenants.apikeys import api_key_authenticate, api_key_create_system
from tenants.context import org_scope
from tenants.lookups import FUNCTIONS
from tenants.management.commands.create_app_role import create_app_role
from tenants.models import Membership, Role
from tenants.selectors import membership_for, memberships_of
from tenants.services import invitation_accept, invitation_create, invitation_for_token
from tests import rls_app_role, system_role
from tests.factories import ControlFactory, UserFactory

pytestmark = pytest.mark.postgres


def _control_titles() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT title FROM controls_control")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def controls(org, other_org):
    ControlFactory(organization=org, title="Acme control")
    ControlFactory(organization=other_org, title="Globex secret control")


def test_the_web_role_cannot_switch_row_level_security_off(org, controls, as_app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.bypass_rls', 'on', false)")
    assert _control_titles() == set()  # no organization: nothing, bypass setting or not
    with org_scope(org):
        assert _control_titles() == {"Acme control"}
        assert set(Control.objects.for_org(org).values_list("title", flat=True)) == {"Acme control"}
    with connection.cursor() as cursor:  # writing another organization's rows: refused too
        cursor.execute("UPDATE controls_control SET title = 'changed'")
        assert cursor.rowcount == 0


def test_the_lookup_functions_are_narrow_definers(db):
    with connection.cursor() as cursor:
        for signature in FUNCTIONS:
            cursor.execute(
                "SELECT prosecdef, proconfig, has_function_privilege('public', p.oid, 'EXECUTE') "
                "FROM pg_proc p WHERE p.oid = %s::regprocedure",
                [signature],
            )
            definer, config, public = cursor.fetchone()
            assert definer, signature
            assert "search_path=pg_catalog, pg_temp" in config, signature
            assert not public, signature


def test_api_key_authentication_works_as_the_web_role(org, other_org, as_app_role):
    key, raw = api_key_create_system(
        organization=org, name="ci", role="read_only", expires_days=None, actor=_actor()
    )
    api_key_create_system(
        organization=other_org, name="ci", role="admin", expires_days=None, actor=_actor()
    )
    found = api_key_authenticate(raw)
    assert (found.pk, found.organization.slug, found.role) == (key.pk, "acme-test", "read_only")
    assert found.last_used_at is not None  # the touch: in its organization, as the web role
    with connection.cursor() as cursor:  # the function hands out no hash
        cursor.execute("SELECT * FROM app_api_key_for_auth(%s, %s)", [key.prefix, "0" * 64])
        assert cursor.fetchall() == []
        assert "secret_hash" not in [c.name for c in cursor.description]


def test_invitation_by_token_and_acceptance_work_as_the_web_role(org, owner, as_app_role):
    new = invitation_create(membership=owner, email="new@example.com", role=Role.CONTRIBUTOR)
    assert invitation_for_token(new.token).organization.slug == "acme-test"
    user = UserFactory(email="new@example.com")
    membership = invitation_accept(user=user, token=new.token)
    assert membership.organization_id == org.pk


def test_a_users_organizations_are_listed_as_the_web_role(
    org, other_org, make_member, as_app_role, django_assert_num_queries
):
    mine = make_member(org, Role.CONTRIBUTOR)
    make_member(other_org, Role.OWNER, user=mine.user)
    make_member(other_org, Role.OWNER)  # someone else's
    with django_assert_num_queries(1):  # the function, joined with the organizations
        listed = memberships_of(mine.user)
        assert [(m.organization.slug, m.role) for m in listed] == [
            ("acme-test", Role.CONTRIBUTOR),
            ("globex-test", Role.OWNER),
        ]
    found = membership_for(user=mine.user, org_slug="globex-test")
    assert isinstance(found, Membership) and found.organization_id == other_org.pk
    assert membership_for(user=mine.user, org_slug="nope") is None


def test_system_jobs_work_as_the_web_role_through_the_system_role(
    org, other_org, as_app_role, monkeypatch
):
    ControlFactory(organization=org)
    with rls.system("test: count every organization's controls") as system:
        assert Control.objects.dangerously_unscoped(reason="test").count() == 1
        assert system.vendor == "postgresql"
    # Without the system role (a web process, a worker without DATABASE_SYSTEM_URL): loud.
    monkeypatch.setattr(rls, "shared_connection_role", None)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_SYSTEM_URL"):
        Control.objects.dangerously_unscoped(reason="test").count()
    with pytest.raises(ImproperlyConfigured, match="web processes must not run system jobs"):
        with rls.system("test"):
            pass


def test_in_tests_system_statements_share_the_test_connection(settings):
    settings.DATABASE_SYSTEM_URL = "postgres://soc2_system:secret@elsewhere:5432/soc2app"
    assert rls.system_alias() == "default"  # never the database of that URL


def _actor():
    from tenants.activity import Actor

    return Actor.system("test")


def _url(role: str, password: str) -> str:
    db = connection.settings_dict
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{role}:{quote(password)}@{host}:{port}/{db['NAME']}"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_SYSTEM_URL"}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=Path(settings.BASE_DIR),
        env={**environ, "DJANGO_SETTINGS_MODULE": "soc2app.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_freshness_command_needs_the_system_connection(org, other_org):
    """Real processes: the command as the application's role finds nothing to do without
    ``DATABASE_SYSTEM_URL`` and says so; with it, it marks both organizations' evidence."""
    import datetime as dt

    from tests.factories import evidence_row

    long_ago = dt.date(2020, 1, 1)
    for o in (org, other_org):
        evidence_row(ControlFactory(organization=o), long_ago, valid_until=long_ago)
    if not rls_app_role.active():  # else the plugin made it, and the body runs as it
        create_app_role(rls_app_role.ROLE, rls_app_role.PASSWORD)  # committed: a LOGIN role
    web = {"DATABASE_URL": _url(rls_app_role.ROLE, rls_app_role.PASSWORD)}

    refused = _manage("check_freshness", **web)
    assert refused.returncode != 0
    assert "DATABASE_SYSTEM_URL" in refused.stderr
    assert set(
        EvidenceVersion.objects.dangerously_unscoped(reason="test").values_list(
            "freshness", flat=True
        )
    ) == {"fresh"}

    system = {"DATABASE_SYSTEM_URL": _url(system_role.ROLE, system_role.PASSWORD)}
    done = _manage("check_freshness", **web, **system)
    assert done.returncode == 0, done.stderr
    assert "acme-test: 1 stale" in done.stdout and "globex-test: 1 stale" in done.stdout


def test_a_migration_backfill_sees_every_organization_as_a_plain_owner(org, controls):
    """An owner that is neither superuser nor BYPASSRLS meets FORCE ROW LEVEL SECURITY; the
    backfill lifts it for its own transaction only."""
    owner = f"{rls_app_role.ROLE}_owner"
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")  # the superuser, even under tests.rls_app_role
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before an ALTER
        cursor.execute(f'CREATE ROLE "{owner}" NOLOGIN')  # rolled back with the test
        cursor.execute(f'ALTER TABLE controls_control OWNER TO "{owner}"')  # rolled back
        cursor.execute(f'SET LOCAL ROLE "{owner}"')
    assert _control_titles() == set()
    with rls.owner_backfill(connection, "controls_control"):
        assert _control_titles() == {"Acme control", "Globex secret control"}
    assert _control_titles() == set()
