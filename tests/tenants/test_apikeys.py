"""API keys: the services, the command, the permission layer and the settings page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from soc2app.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from tenants.activity import Actor
from tenants.apikeys import (
    api_key_authenticate,
    api_key_create,
    api_key_create_system,
    api_key_revoke,
    grantable_key_roles,
    hash_secret,
)
from tenants.models import ActivityEntry, ApiKey, Membership, Role
from tenants.permissions import WRITE_ACTIONS, Action, can, can_edit_control, can_submit_evidence
from tests.factories import ControlFactory

pytestmark = pytest.mark.django_db


def system_key(org, role="read_only", name="ci", **kwargs):
    return api_key_create_system(
        organization=org,
        name=name,
        role=role,
        expires_days=None,
        actor=Actor.system("test"),
        **kwargs,
    )


# --- services ---------------------------------------------------------------------------------
def test_owner_creates_a_key_stored_only_as_a_hash(org, owner):
    key, plaintext = api_key_create(membership=owner, name=" ci-pipeline ", role="contributor")
    prefix, secret = plaintext[:11], plaintext[12:]
    assert plaintext.startswith("sk_") and key.prefix == prefix and plaintext[11] == "_"
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    stored = ApiKey.objects.for_org(org).get()
    assert stored.name == "ci-pipeline" and stored.secret_hash == hash_secret(secret)
    assert secret not in str(vars(stored)) and stored.created_by == owner.user
    assert api_key_authenticate(plaintext) == stored
    entry = ActivityEntry.objects.for_org(org).get(action="create", object_type="tenants.apikey")
    assert entry.actor == owner.user and entry.changes["role"] == [None, "contributor"]


def test_expiry_in_days(org, owner):
    key, _ = api_key_create(membership=owner, name="short", role="read_only", expires_days=7)
    assert abs(key.expires_at - (timezone.now() + dt.timedelta(days=7))) < dt.timedelta(minutes=1)


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR])
def test_only_owners_and_admins_manage_keys(role, org, make_member, owner):
    member = make_member(org, role)
    with pytest.raises(NotPermitted):
        api_key_create(membership=member, name="x", role="read_only")
    key, _ = api_key_create(membership=owner, name="y", role="read_only")
    with pytest.raises(NotPermitted):
        api_key_revoke(membership=member, key=key)
    assert ApiKey.objects.for_org(org).get().revoked_at is None


def test_roles_a_member_may_give_a_key(org, owner, make_member):
    admin = make_member(org, Role.ADMIN)
    assert (
        grantable_key_roles(owner)
        == grantable_key_roles(admin)
        == [
            "read_only",
            "contributor",
            "compliance_manager",
            "admin",
        ]
    )
    assert grantable_key_roles(make_member(org, Role.COMPLIANCE_MANAGER)) == []


def test_a_key_cannot_mint_or_revoke_keys(org):
    admin_key, _ = system_key(org, role="admin")
    with pytest.raises(NotPermitted, match="not by other API keys"):
        api_key_create(membership=admin_key, name="more", role="admin")
    with pytest.raises(NotPermitted):
        api_key_revoke(membership=admin_key, key=admin_key)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  ", "role": "read_only"}, "name"),
        ({"name": "x" * 81, "role": "read_only"}, "name"),
        ({"name": "x", "role": "owner"}, "role"),
        ({"name": "x", "role": "auditor"}, "role"),
        ({"name": "x", "role": "read_only", "expires_days": 0}, "expires_days"),
        ({"name": "x", "role": "read_only", "expires_days": 100_000}, "expires_days"),
    ],
)
def test_bad_input_names_the_field(kwargs, field, org, owner):
    with pytest.raises(ValidationFailed) as err:
        api_key_create(membership=owner, **kwargs)
    assert err.value.field == field
    assert not ApiKey.objects.for_org(org).exists()


def test_active_names_are_unique_but_a_revoked_name_can_be_reused(org, owner):
    key, _ = api_key_create(membership=owner, name="ci", role="read_only")
    with pytest.raises(ValidationFailed, match="exists") as err:
        api_key_create(membership=owner, name="ci", role="read_only")
    assert err.value.field == "name"
    api_key_revoke(membership=owner, key=key)
    api_key_create(membership=owner, name="ci", role="read_only")
    assert ApiKey.objects.for_org(org).filter(name="ci").count() == 2


def test_revoke_is_logged_and_happens_once(org, owner):
    key, _ = api_key_create(membership=owner, name="ci", role="read_only")
    api_key_revoke(membership=owner, key=key)
    key.refresh_from_db()
    assert key.revoked_at is not None and not key.is_active and key.status == "revoked"
    assert ActivityEntry.objects.for_org(org).filter(action="revoke").count() == 1
    with pytest.raises(Conflict):
        api_key_revoke(membership=owner, key=key)


def test_revoking_another_organizations_key_is_not_found(org, outsider):
    key, _ = system_key(org)
    with pytest.raises(NotFound):
        api_key_revoke(membership=outsider, key=key)


# --- the permission layer ----------------------------------------------------------------------
def test_read_only_key_may_view_and_nothing_else(org):
    key, _ = system_key(org, role="read_only")
    assert can(key, Action.VIEW)
    assert not any(can(key, action) for action in WRITE_ACTIONS | {Action.ACTIVITY_VIEW})


def test_contributor_key_submits_evidence_to_any_control_of_its_organization(
    org, other_org, make_member
):
    key, _ = system_key(org, role="contributor")
    someone = make_member(org, Role.CONTRIBUTOR)
    owned_by_someone = ControlFactory(organization=org, owner=someone)
    foreign = ControlFactory(organization=other_org)
    assert can_submit_evidence(key, owned_by_someone)
    assert not can_submit_evidence(key, foreign)
    # A key owns no control, even when its id happens to equal a membership's.
    same_id = Membership(pk=key.pk, organization=org, role=Role.CONTRIBUTOR)
    control = ControlFactory(organization=org, owner=None)
    control.owner_id = same_id.pk
    assert not can_edit_control(key, control)


def test_revoked_or_expired_keys_may_do_nothing(org, owner):
    key, _ = system_key(org, role="admin")
    key.expires_at = timezone.now() - dt.timedelta(seconds=1)
    assert not key.is_active and not can(key, Action.VIEW)
    key.expires_at = None
    key.revoked_at = timezone.now()
    assert not can(key, Action.VIEW)


# --- the command -------------------------------------------------------------------------------
def test_create_api_key_prints_the_key_alone_on_the_last_line(org, capsys):
    call_command(
        "create_api_key",
        "--org",
        org.slug,
        "--role",
        "contributor",
        "--name",
        "scanner",
        "--expires-days",
        "30",
    )
    last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    key = api_key_authenticate(last)
    assert key.name == "scanner" and key.role == "contributor" and key.organization == org
    assert key.expires_at is not None
    entry = ActivityEntry.objects.for_org(org).get(object_type="tenants.apikey")
    assert entry.actor_label == "cli: create_api_key"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nope", "--role", "read_only"], "--org"),
        (["--org", "acme-test", "--role", "owner"], "--role"),
        (["--org", "acme-test", "--role", "read_only", "--expires-days", "ten"], "--expires-days"),
        (["--org", "acme-test", "--role", "read_only", "--expires-days", "0"], "--expires-days"),
        (["--org", "acme-test", "--role", "read_only", "--name", "  "], "--name"),
    ],
)
def test_create_api_key_refuses_bad_input(args, message, org):
    with pytest.raises(CommandError, match=message) as err:
        call_command("create_api_key", *args)
    assert "\n" not in str(err.value)
    assert not ApiKey.objects.for_org(org).exists()


# --- the page ----------------------------------------------------------------------------------
def url(org, name="api_keys", **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_empty_state(org, owner, client_for):
    body = client_for(owner).get(url(org)).content.decode()
    assert "No API keys yet" in body and "Create key" in body


def test_list_page_query_count(org, owner, client_for, django_assert_num_queries):
    for n in range(3):
        api_key_create(membership=owner, name=f"k{n}", role="read_only")
    client = client_for(owner)
    client.get(url(org))  # the first visit also stores the last organization in the session
    # session, user, membership (+organization), the switcher's memberships, keys (+creators)
    with django_assert_num_queries(5):
        response = client.get(url(org))
    assert response.content.decode().count("Revoke</button>") == 3


def test_create_shows_the_key_once(org, owner, client_for):
    client = client_for(owner)
    response = client.post(url(org), {"name": "ci", "role": "read_only", "expires_days": ""})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = response.context["new_key"]["plaintext"]
    assert plaintext in response.content.decode()
    assert api_key_authenticate(plaintext).name == "ci"
    assert plaintext not in client.get(url(org)).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "role": "read_only"},
        {"name": "x", "role": "owner"},
        {"name": "x", "role": "read_only", "expires_days": "abc"},
        {"name": "x", "role": "read_only", "expires_days": "-3"},
        {"name": "x" * 500, "role": "read_only"},
    ],
)
def test_bad_input_is_a_400_with_the_form(data, org, owner, client_for):
    response = client_for(owner).post(url(org), data)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    assert not ApiKey.objects.for_org(org).exists()


def test_revoke_from_the_page(org, owner, client_for):
    key, plaintext = api_key_create(membership=owner, name="ci", role="read_only")
    response = client_for(owner).post(url(org, "api_key_revoke", pk=key.pk))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert client_for(owner).get(url(org, "api_key_revoke", pk=key.pk)).status_code == 405


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR])
def test_other_roles_are_refused(role, org, owner, make_member, client_for):
    key, _ = api_key_create(membership=owner, name="ci", role="read_only")
    client = client_for(make_member(org, role))
    # Auditors are kept in the auditor portal: other pages send them there (GET) or 403.
    assert client.get(url(org)).status_code == (302 if role == Role.AUDITOR else 403)
    assert client.post(url(org), {"name": "x", "role": "read_only"}).status_code == 403
    assert client.post(url(org, "api_key_revoke", pk=key.pk)).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None and ApiKey.objects.for_org(org).count() == 1


def test_outsiders_get_404_and_foreign_keys_are_not_found(org, owner, outsider, client_for):
    key, _ = api_key_create(membership=owner, name="ci", role="read_only")
    outsider_client = client_for(outsider)
    assert outsider_client.get(url(org)).status_code == 404
    assert outsider_client.post(url(org, "api_key_revoke", pk=key.pk)).status_code == 404
    # Under their own organization's address, another organization's key does not exist.
    own = reverse("api_key_revoke", kwargs={"org_slug": outsider.organization.slug, "pk": key.pk})
    assert outsider_client.post(own).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
