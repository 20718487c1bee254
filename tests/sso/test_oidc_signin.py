"""Signing in through OpenID Connect, end to end against the local provider (discovery, PKCE,
token, userinfo, RS256 ID tokens), and each way such a sign-in is refused."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount

from tenants.models import ActivityEntry, Membership, Role
from tests.sso.conftest import member, oidc_sign_in, signed_in_user_id, verified_domain

pytestmark = pytest.mark.django_db


def _actions(org) -> list[str]:
    return list(ActivityEntry.objects.for_org(org).order_by("id").values_list("action", flat=True))


def test_a_member_signs_in_through_the_identity_provider(client, org, oidc, acme_oidc):
    ana = member(org, "ana@acme.test")
    response = oidc_sign_in(client, "ana@acme.test")
    assert response.status_code == 302, response.content[:800]
    assert signed_in_user_id(client) == str(ana.user_id)
    # The provider was asked with our nonce, PKCE and the address as a hint.
    asked = oidc.authorize_requests[-1]
    assert asked["nonce"] and asked["code_challenge_method"] == "S256"
    assert asked["login_hint"] == "ana@acme.test"
    assert "sso.signed_in" in _actions(org)
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_an_address_the_org_did_not_verify_is_refused(client, org, oidc, acme_oidc):
    member(org, "ana@elsewhere.test")
    oidc.user["email"] = "ana@elsewhere.test"
    # The sign-in page routes by the typed address; the provider answers for another one.
    response = oidc_sign_in(client, "ana@acme.test")
    assert response.status_code == 403
    assert b"not a verified domain of Acme" in response.content
    assert signed_in_user_id(client) is None
    entry = ActivityEntry.objects.for_org(org).get(action="sso.signin_refused")
    assert entry.changes["reason"] == "unverified_domain"


def test_an_address_of_another_organizations_domain_is_refused(
    client, org, other_org, oidc, acme_oidc
):
    verified_domain(other_org, "globex.test")
    member(org, "spy@globex.test")
    oidc.user["email"] = "spy@globex.test"
    response = oidc_sign_in(client, "ana@acme.test")
    assert response.status_code == 403
    assert b"verified domain of another organization" in response.content
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ({"iss": "http://evil.test"}, b"Invalid id_token"),
        ({"aud": "someone-else"}, b"Invalid id_token"),
        ({"time_offset": -3600}, b"Invalid id_token"),  # expired: the clocks are an hour apart
        ({"time_offset": 3600}, b"issued in the future"),
        ({"nonce": "replayed"}, b"nonce this sign-in sent"),
    ],
)
def test_a_bad_id_token_is_refused_and_logged(client, org, oidc, acme_oidc, tamper, message):
    member(org, "ana@acme.test")
    oidc.tamper = tamper
    response = oidc_sign_in(client, "ana@acme.test")
    assert response.status_code == 403
    assert message in response.content, response.content[:2000]
    assert signed_in_user_id(client) is None
    assert "sso.signin_refused" in _actions(org)


def test_someone_who_is_not_a_member_is_refused(client, org, oidc, acme_oidc):
    oidc.user["email"] = "newcomer@acme.test"
    response = oidc_sign_in(client, "newcomer@acme.test")
    assert response.status_code == 403 and b"ask an owner to invite you" in response.content
    assert signed_in_user_id(client) is None


def test_just_in_time_membership_creates_a_contributor(client, org, oidc, acme_oidc):
    acme_oidc.allow_jit = True
    acme_oidc.save()
    oidc.user["email"] = "newcomer@acme.test"
    response = oidc_sign_in(client, "newcomer@acme.test")
    assert response.status_code == 302
    membership = Membership.objects.for_org(org).get(user__email="newcomer@acme.test")
    assert membership.role == Role.CONTRIBUTOR
    assert signed_in_user_id(client) == str(membership.user_id)


def test_an_unknown_domain_is_told_to_use_a_password(client, db):
    response = client.post("/sso/", {"email": "bob@nowhere.test"})
    assert response.status_code == 400
    assert b"sign in with your password" in response.content


def test_the_page_carries_where_to_go_next_once(client, db):
    page = client.get("/sso/?next=/o/acme/controls/").content.decode()
    assert page.count('name="next"') == 1 and 'value="/o/acme/controls/"' in page


def test_a_disabled_connection_does_not_route(client, org, oidc, acme_oidc):
    acme_oidc.enabled = False
    acme_oidc.save()
    assert client.post("/sso/", {"email": "ana@acme.test"}).status_code == 400


@pytest.mark.parametrize("where", ["userinfo", "id_token"])
def test_an_address_the_idp_did_not_verify_is_refused(client, org, oidc, acme_oidc, where):
    member(org, "ana@acme.test")
    if where == "userinfo":
        oidc.user["email_verified"] = False
    else:
        oidc.tamper = {"claims": {"email_verified": False}}
    response = oidc_sign_in(client, "ana@acme.test")
    assert response.status_code == 403 and b"not verified" in response.content
    assert signed_in_user_id(client) is None
    entry = ActivityEntry.objects.for_org(org).get(action="sso.signin_refused")
    assert entry.changes["reason"] == "email_not_verified"


def test_an_absent_email_verified_claim_is_accepted_for_a_verified_domain(
    client, org, oidc, acme_oidc
):
    """Entra ID sends no email_verified: the org's verified domain is what vouches."""
    ana = member(org, "ana@acme.test")
    assert "email_verified" not in oidc.user
    assert oidc_sign_in(client, "ana@acme.test").status_code == 302
    assert signed_in_user_id(client) == str(ana.user_id)


def test_a_second_identity_for_the_same_address_is_refused(client, org, oidc, acme_oidc):
    """nOAuth: another subject at the same IdP claiming a linked user's address."""
    ana = member(org, "ana@acme.test")
    assert oidc_sign_in(client, "ana@acme.test").status_code == 302
    client.logout()
    oidc.user["sub"] = "someone-else"
    response = oidc_sign_in(client, "ana@acme.test")
    assert response.status_code == 403 and b"another identity" in response.content
    assert signed_in_user_id(client) is None
    assert SocialAccount.objects.filter(user=ana.user).count() == 1
    entry = ActivityEntry.objects.for_org(org).filter(action="sso.signin_refused").get()
    assert entry.changes["reason"] == "second_identity"


@pytest.mark.parametrize(
    ("why", "says", "reason"),
    [
        ("private", b"could not be reached", "idp_unreachable"),
        ("down", b"could not be reached", "idp_unreachable"),
        ("garbled", b"discovery document could not be used", "idp_discovery_unusable"),
    ],
)
def test_an_identity_provider_that_cannot_be_reached_gets_a_clear_refusal(  # noqa: PLR0913
    client, org, oidc, acme_oidc, settings, why, says, reason
):
    """The discovery document is read at each sign-in: an address the SSRF guard refuses or a
    provider that is down is a page saying so (and logged), never a 500."""
    member(org, "ana@acme.test")
    if why == "private":
        settings.WEBHOOK_ALLOW_PRIVATE = False
    elif why == "down":
        oidc.__exit__(None, None, None)
    else:  # the provider now publishes a discovery document without its endpoints
        oidc.discovery = lambda: {"issuer": oidc.issuer}
    response = client.post("/sso/", {"email": "ana@acme.test"})
    assert response.status_code == 502, response.content[:800]
    assert says in response.content
    assert signed_in_user_id(client) is None
    entry = ActivityEntry.objects.for_org(org).get(action="sso.signin_refused")
    assert entry.changes["reason"] == reason
