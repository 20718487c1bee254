"""An organization that requires single sign-on: password (and so TOTP) sign-in refused for
its members with a pointer to SSO, the break-glass owner keeping password + TOTP, and a person
in two organizations keeping password sign-in for the one that does not require it."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from soc2app.errors import ValidationFailed
from sso import services
from tenants.models import ActivityEntry, Role
from tests.factories import PASSWORD
from tests.sso.conftest import follow_oidc, member, oidc_sign_in, signed_in_user_id

pytestmark = pytest.mark.django_db


def _with_app(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _password(client: Client, email: str):
    cache.clear()  # allauth's rate limits and used codes
    return client.post(reverse("account_login"), {"login": email, "password": PASSWORD})


@pytest.fixture
def required(org, acme_oidc):
    """Acme requires SSO; its break-glass owner has an authenticator app."""
    glass = member(org, "glass@acme.test", Role.OWNER)
    secret = _with_app(glass.user)
    services.policy_set(
        membership=glass, require_sso=True, break_glass_id=glass.pk, allow_jit=False
    )
    return glass, secret


def test_a_member_password_sign_in_is_refused_with_a_pointer_to_sso(client, org, required):
    ana = member(org, "ana@acme.test")
    response = _password(client, "ana@acme.test")
    assert response.status_code == 302 and response["Location"] == reverse("sso_login")
    assert signed_in_user_id(client) is None
    page = client.get(response["Location"])
    assert "Acme requires single sign-on" in page.content.decode()
    entry = ActivityEntry.objects.for_org(org).get(action="sso.password_refused")
    assert entry.actor_id == ana.user_id


def test_the_same_member_signs_in_through_sso(client, org, required):
    ana = member(org, "ana@acme.test")
    assert oidc_sign_in(client, "ana@acme.test").status_code == 302
    assert signed_in_user_id(client) == str(ana.user_id)
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_the_break_glass_owner_keeps_password_and_totp(client, org, required):
    glass, secret = required
    response = _password(client, "glass@acme.test")
    assert response["Location"] == reverse("mfa_authenticate")  # TOTP still asked
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302 and signed_in_user_id(client) == str(glass.user_id)
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_a_break_glass_owner_without_an_app_is_refused_too(client, org, required):
    glass, _ = required
    glass.user.authenticator_set.all().delete()
    assert _password(client, "glass@acme.test")["Location"] == reverse("sso_login")
    assert signed_in_user_id(client) is None


def test_an_outside_auditor_keeps_password_sign_in_and_the_portal(client, org, required):
    """The CPA firm's people have no account at the organization's identity provider: the
    requirement is for the organization's own members (and it must not send an auditor's
    portal pages round in a loop)."""
    auditor = member(org, "cpa@auditfirm.test", Role.AUDITOR)
    response = _password(client, "cpa@auditfirm.test")
    assert response.status_code == 302 and signed_in_user_id(client) == str(auditor.user_id)
    portal = client.get(reverse("portal_home", kwargs={"org_slug": org.slug}))
    assert portal.status_code == 200
    assert client.get(f"/o/{org.slug}/").status_code == 302  # the portal, not single sign-on
    assert "/sso/" not in client.get(f"/o/{org.slug}/")["Location"]


def test_someone_in_two_organizations_keeps_the_other_and_is_routed_for_this_one(
    client, org, other_org, make_member, required
):
    ana = member(org, "ana@acme.test")
    make_member(other_org, Role.CONTRIBUTOR, user=ana.user)
    response = _password(client, "ana@acme.test")
    assert response.status_code == 302 and signed_in_user_id(client) == str(ana.user_id)
    assert client.get(f"/o/{other_org.slug}/").status_code == 200
    # Acme's pages send them to Acme's identity provider first; writes are refused.
    routed = client.get(f"/o/{org.slug}/controls/")
    assert routed["Location"].startswith(f"/o/{org.slug}/sso/continue/?next=")
    assert (
        client.post(f"/o/{org.slug}/settings/sso/domains/", {"domain": "x.test"}).status_code == 403
    )
    page = client.get(routed["Location"])
    assert b"Continue to single sign-on" in page.content
    back = follow_oidc(
        client, client.post(routed["Location"], {"next": f"/o/{org.slug}/controls/"})
    )
    assert back.status_code == 302 and back["Location"] == f"/o/{org.slug}/controls/"
    assert client.get(f"/o/{org.slug}/controls/").status_code == 200


def test_the_api_with_a_session_cookie_is_refused_until_signed_in_through_sso(
    client, org, other_org, make_member, required
):
    """The API's URLs (``organization_slug``) are outside the pages' middleware: the same rule
    is applied by the API's tenancy for a session (an API key is not a session)."""
    ana = member(org, "ana@acme.test")
    make_member(other_org, Role.CONTRIBUTOR, user=ana.user)
    _password(client, "ana@acme.test")
    assert signed_in_user_id(client) == str(ana.user_id)
    assert client.get(f"/api/v1/orgs/{other_org.slug}/sso/").status_code == 200
    refused = client.get(f"/api/v1/orgs/{org.slug}/sso/")
    assert refused.status_code == 403
    assert "requires single sign-on" in refused.json()["detail"]
    follow_oidc(client, client.post(f"/o/{org.slug}/sso/continue/", {"next": "/"}))
    assert client.get(f"/api/v1/orgs/{org.slug}/sso/").status_code == 200


def test_the_break_glass_owner_keeps_the_api_after_password_and_totp(client, org, required):
    glass, secret = required
    _password(client, "glass@acme.test")
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    client.post(reverse("mfa_authenticate"), {"code": code})
    assert signed_in_user_id(client) == str(glass.user_id)
    assert client.get(f"/api/v1/orgs/{org.slug}/sso/").status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"break_glass": None}, "Choose a break-glass owner"),
        ({"break_glass": "member"}, "must be an owner"),
        ({"break_glass": "owner_without_app"}, "has no authenticator app"),
        ({"enabled": False}, "Enable single sign-on before requiring it"),
    ],
)
def test_requiring_sso_is_refused_when_it_could_lock_people_out(org, acme_oidc, change, message):
    owner = member(org, "boss@acme.test", Role.OWNER)
    _with_app(owner.user)
    plain_owner = member(org, "plain@acme.test", Role.OWNER)
    contributor = member(org, "ana@acme.test")
    if change.get("enabled") is False:
        acme_oidc.enabled = False
        acme_oidc.save()
    glass = {
        None: None,
        "member": contributor.pk,
        "owner_without_app": plain_owner.pk,
    }.get(change.get("break_glass", "x"), owner.pk)
    with pytest.raises(ValidationFailed, match=message):
        services.policy_set(
            membership=owner, require_sso=True, break_glass_id=glass, allow_jit=False
        )
    acme_oidc.refresh_from_db()
    assert not acme_oidc.require_sso


def test_a_member_with_an_authenticator_app_still_gives_its_code_after_the_idp(
    client, org, oidc, required
):
    glass, secret = required
    oidc.user["email"] = "glass@acme.test"
    response = oidc_sign_in(client, "glass@acme.test")
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302 and signed_in_user_id(client) == str(glass.user_id)
    # Signed in through the IdP: the organization's pages open (the session says so).
    assert client.get(f"/o/{org.slug}/").status_code == 200
