"""Signing in through SAML 2.0, end to end against the local IdP (metadata, AuthnRequest by
redirect, a signed assertion posted to our ACS), and each way such an answer is refused."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.models import ActivityEntry
from tests.sso.conftest import (
    member,
    saml_answer,
    saml_post,
    saml_sign_in,
    signed_in_user_id,
    verified_domain,
)

pytestmark = pytest.mark.django_db


def _refusals(org) -> list[dict]:
    rows = ActivityEntry.objects.for_org(org).filter(action="sso.signin_refused").order_by("id")
    return [row.changes for row in rows]


def test_a_member_signs_in_through_the_saml_idp(client, org, saml_idp, acme_saml):
    ana = member(org, "ana@acme.test")
    response = saml_sign_in(client, "ana@acme.test")
    assert response.status_code == 302, response.content[:2000]
    assert signed_in_user_id(client) == str(ana.user_id)
    # The AuthnRequest named our SP entity id and ACS URL.
    asked = saml_idp.requests[-1]
    assert asked["issuer"].endswith(f"/accounts/saml/{org.slug}/metadata/")
    assert asked["acs"].endswith(f"/accounts/saml/{org.slug}/acs/")
    assert ActivityEntry.objects.for_org(org).filter(action="sso.signed_in").exists()


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"unsigned": True}, b"signed"),
        ({"wrong_key": True}, b"Signature validation failed"),
        ({"audience": "https://someone-else.test/sp"}, b"is not a valid audience"),
        ({"time_offset": -3600}, b"expired"),
        ({"time_offset": 3600}, b"not yet valid"),
    ],
)
def test_a_bad_assertion_is_refused_and_logged(client, org, saml_idp, acme_saml, tamper, reason):
    member(org, "ana@acme.test")
    saml_idp.tamper = tamper
    response = saml_sign_in(client, "ana@acme.test")
    assert response.status_code == 403, response.content[:2000]
    assert reason in response.content, response.content[:3000]
    assert signed_in_user_id(client) is None
    assert _refusals(org)[-1]["reason"] == "protocol"


def test_a_replayed_assertion_is_refused(client, org, saml_idp, acme_saml):
    member(org, "ana@acme.test")
    acs, fields = saml_answer(client.post("/sso/", {"email": "ana@acme.test"}))
    assert saml_post(client, acs, fields).status_code == 302
    # The same answer again: from another browser, and from the same one.
    for browser in (Client(HTTP_HOST="testserver"), client):
        replayed = saml_post(browser, acs, fields)
        assert replayed.status_code == 403
        assert b"already used, or replayed" in replayed.content
    assert [r["reason"] for r in _refusals(org)] == ["replay", "replay"]


def test_an_idp_initiated_answer_is_refused(client, org, saml_idp, acme_saml):
    member(org, "ana@acme.test")
    saml_idp.tamper = {"unsolicited": True}
    response = saml_sign_in(client, "ana@acme.test")
    assert response.status_code == 403
    assert signed_in_user_id(client) is None


def test_an_assertion_for_another_organizations_domain_is_refused(
    client, org, other_org, saml_idp, acme_saml
):
    verified_domain(other_org, "globex.test")
    member(org, "spy@globex.test")
    saml_idp.user["email"] = "spy@globex.test"
    response = saml_sign_in(client, "ana@acme.test")
    assert response.status_code == 403
    assert b"verified domain of another organization" in response.content
    assert _refusals(org)[-1]["reason"] == "other_organization_domain"


def test_an_assertion_for_an_unverified_domain_is_refused(client, org, saml_idp, acme_saml):
    member(org, "ana@unverified.test")
    saml_idp.user["email"] = "ana@unverified.test"
    response = saml_sign_in(client, "ana@acme.test")
    assert response.status_code == 403
    assert _refusals(org)[-1]["reason"] == "unverified_domain"


def test_the_sp_metadata_is_served(client, org, acme_saml):
    response = client.get(f"/accounts/saml/{org.slug}/metadata/")
    assert response.status_code == 200
    assert f"/accounts/saml/{org.slug}/acs/".encode() in response.content
