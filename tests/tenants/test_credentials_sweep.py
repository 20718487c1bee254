"""The sweep (Celery beat) that revokes API keys and SCIM tokens whose creator's access ended:
each organization in its own scope, one activity entry per credential by the system, one
e-mail to the organization's active owners per run; and the keys page before it runs."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django.urls import reverse

from scim.models import ScimToken
from scim.tokens import scim_token_create
from soc2app.schedule import beat_schedule
from tenants.activity import Actor
from tenants.apikeys import (
    InvalidKey,
    api_key_authenticate,
    api_key_create,
    api_key_create_system,
)
from tenants.credentials_sweep import ACTOR
from tenants.lookups import function_sql
from tenants.management.commands.create_app_role import create_app_role
from tenants.models import ActivityEntry, ApiKey, Membership, Role
from tenants.tasks import revoke_lapsed_credentials
from tests.factories import access_end
from tests.tenants.conftest import APP_ROLE

pytestmark = pytest.mark.django_db
SIGNATURE = "app_api_key_for_auth(text, text)"


@pytest.fixture
def creator(time_boxed_owner) -> Membership:
    return time_boxed_owner


def _revoked(org, model, name: str) -> bool:
    return model.objects.for_org(org).get(name=name).revoked_at is not None


def _refusal(raw: str) -> str:
    try:
        api_key_authenticate(raw)
    except InvalidKey as exc:
        return exc.code
    return "accepted"


def _sweep(capture) -> int:
    with capture(execute=True):
        return revoke_lapsed_credentials()


def test_the_sweep_revokes_lapsed_credentials_logs_them_and_mails_the_owners_once(
    org, owner, creator, mailoutbox, django_capture_on_commit_callbacks
):
    _, raw = api_key_create(membership=creator, name="ci", role="read_only")
    scim_token_create(membership=creator, name="okta")
    api_key_create(membership=owner, name="owners", role="admin")
    api_key_create_system(
        organization=org, name="cli", role="admin", expires_days=None, actor=Actor.system("cli")
    )
    assert _sweep(django_capture_on_commit_callbacks) == 0 and mailoutbox == []
    access_end(creator)
    assert _sweep(django_capture_on_commit_callbacks) == 2
    assert _revoked(org, ApiKey, "ci") and _revoked(org, ScimToken, "okta")
    assert not _revoked(org, ApiKey, "owners") and not _revoked(org, ApiKey, "cli")
    entries = ActivityEntry.objects.for_org(org).filter(action="revoke").order_by("object_type")
    assert [(e.object_type, e.object_repr.split(" ")[0], e.actor_label) for e in entries] == [
        ("scim.scimtoken", "okta", ACTOR),
        ("tenants.apikey", "ci", ACTOR),
    ]
    assert all(e.actor_id is None for e in entries)
    assert entries[0].changes["reason"][1] == f"creator's access ended: {creator.user.email}"
    # one mail, to the owner whose access stands (not to the creator), listing both
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [owner.user.email] and "2 credentials revoked" in mail.subject
    assert "API key “ci”" in mail.body and "SCIM token “okta”" in mail.body
    assert creator.user.email in mail.body and "/o/acme-test/activity/" in mail.body
    # idempotent: a second run revokes, logs and mails nothing more
    assert _sweep(django_capture_on_commit_callbacks) == 0 and len(mailoutbox) == 1
    assert entries.count() == 2
    assert _refusal(raw) == "api_key_revoked"


def test_each_organization_is_swept_on_its_own(
    org, other_org, owner, outsider, creator, make_member, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    # The same person in the other organization: their access there has not ended.
    theirs = make_member(other_org, Role.ADMIN, user=creator.user)
    api_key_create(membership=creator, name="ci", role="read_only")
    api_key_create(membership=theirs, name="ci", role="read_only")
    lapsed_there = make_member(other_org, Role.ADMIN)
    api_key_create(membership=lapsed_there, name="deploy", role="read_only")
    access_end(creator)
    access_end(lapsed_there)
    assert _sweep(django_capture_on_commit_callbacks) == 2
    assert _revoked(org, ApiKey, "ci") and not _revoked(other_org, ApiKey, "ci")
    assert _revoked(other_org, ApiKey, "deploy")
    assert sorted((m.to[0], "deploy" in m.body, "“ci”" in m.body) for m in mailoutbox) == sorted(
        [(owner.user.email, False, True), (outsider.user.email, True, False)]
    )
    assert ActivityEntry.objects.for_org(other_org).filter(action="revoke").count() == 1


def test_a_system_key_is_never_swept(org, owner, mailoutbox, django_capture_on_commit_callbacks):
    api_key_create_system(
        organization=org, name="cli", role="admin", expires_days=None, actor=Actor.system("cli")
    )
    Membership.objects.for_org(org).filter(pk=owner.pk).delete()
    assert _sweep(django_capture_on_commit_callbacks) == 0 and mailoutbox == []


def test_the_keys_page_shows_a_suspended_key_until_the_sweep(
    org, owner, creator, client_for, django_assert_num_queries, django_capture_on_commit_callbacks
):
    for n in range(3):
        api_key_create(membership=creator, name=f"k{n}", role="read_only")
    access_end(creator)
    client = client_for(owner)
    url = reverse("api_keys", args=[org.slug])
    client.get(url)  # the first visit also stores the last organization in the session
    # as before (tests/tenants/test_apikeys.py): session, user, membership (+organization),
    # the switcher's memberships, keys (+creators, +their standing)
    with django_assert_num_queries(5):
        body = client.get(url).content.decode()
    assert body.count("Suspended: creator's access expired") == 3
    assert body.count("Revoke</button>") == 3  # still revocable by hand
    _sweep(django_capture_on_commit_callbacks)
    body = client.get(url).content.decode()
    assert "Suspended" not in body and body.count('badge bad">Revoked') == 3


def test_the_sweep_runs_every_quarter_hour_by_beat():
    entry = beat_schedule(evidence_check_hour=6)["revoke-lapsed-credentials"]
    assert entry["task"] == "tenants.tasks.revoke_lapsed_credentials"
    assert entry["schedule"].minute == {3, 18, 33, 48}


@pytest.fixture
def recreated(db) -> None:
    """The application role granted the function, then the function recreated by its
    migration (as the migrating role: a fixture, before any test body's role)."""
    create_app_role(APP_ROLE)
    migration = importlib.import_module("tenants.migrations.0012_api_key_creator_standing")
    migration.with_standing(None, SimpleNamespace(connection=connection))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL functions")
def test_the_lookup_function_in_the_database_is_the_codes_and_keeps_its_grant(recreated):
    """The creator's standing is frozen into the function by its migration: a change in who
    may create keys must come with a migration (this fails until it does). Recreating the
    function (its migration) keeps the application role's right to call it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_functiondef(%s::regprocedure), "
            "has_function_privilege(%s, %s, 'EXECUTE')",
            [SIGNATURE, APP_ROLE, SIGNATURE],
        )
        definition, granted = cursor.fetchone()
    body = function_sql(SIGNATURE)[0].split("$fn$")[1]
    assert body.strip() in definition and granted
