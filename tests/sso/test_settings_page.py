"""Settings → Single sign-on: who sees and changes it, what to copy into the IdP, configuring
each protocol (bad input refused, nothing stored), the test sign-in and enabling."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from sso.models import SsoConnection
from tenants.context import org_scope
from tenants.models import ActivityEntry, Role
from tests.sso.conftest import (
    DOMAIN,
    follow_oidc,
    member,
    saml_answer,
    saml_post,
    signed_in_user_id,
    verified_domain,
)
from tests.sso.oidc_provider import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.django_db


def url(org, tail: str = "") -> str:
    return f"/o/{org.slug}/settings/sso/{tail}"


@pytest.fixture
def owner_client(org):
    boss = member(org, "boss@acme.test", Role.OWNER)
    browser = Client(HTTP_HOST="testserver")
    browser.force_login(boss.user)
    return boss, browser


def configure_oidc(client, org, oidc, **fields):
    data = {"kind": "oidc", "oidc_issuer": oidc.issuer, "oidc_client_id": CLIENT_ID}
    data["oidc_client_secret"] = CLIENT_SECRET
    return client.post(url(org, "connection/"), {**data, **fields})


def _connection(org) -> SsoConnection | None:
    return SsoConnection.objects.for_org(org).first()


def test_the_owner_sees_what_to_copy_into_the_idp(org, owner_client):
    _, client = owner_client
    page = client.get(url(org)).content.decode()
    assert f"http://testserver/accounts/saml/{org.slug}/acs/" in page
    assert f"http://testserver/accounts/saml/{org.slug}/metadata/" in page
    assert f"http://testserver/accounts/oidc/oidc-{org.slug}/login/callback/" in page
    assert "Save OpenID Connect" in page and "Add domain" in page


def test_an_admin_reads_it_and_changes_nothing(org, make_member, client_for, oidc):
    admin = make_member(org, Role.ADMIN)
    client = client_for(admin)
    page = client.get(url(org))
    assert page.status_code == 200
    assert (
        b"Only an owner can change" in page.content and b"Save OpenID Connect" not in page.content
    )
    response = client.post(url(org, "domains/"), {"domain": DOMAIN})
    assert response.status_code == 403
    response = client.post(
        url(org, "connection/"),
        {
            "kind": "oidc",
            "oidc_issuer": oidc.issuer,
            "oidc_client_id": "x",
            "oidc_client_secret": "y",
        },
    )
    assert response.status_code == 403 and _connection(org) is None


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR])
def test_other_members_are_refused(org, make_member, client_for, role):
    assert client_for(make_member(org, role)).get(url(org)).status_code == 403


def test_another_organization_is_a_404(org, outsider, client_for, acme_oidc):
    client = client_for(outsider)
    assert client.get(url(org)).status_code == 404
    assert client.post(url(org, "enable/"), {"enabled": "0"}).status_code == 404
    domain = verified_domain(outsider.organization, "globex.test")
    # Another organization's domain through one's own organization's URL: not found either.
    mine = member(org, "boss@acme.test", Role.OWNER)
    theirs_via_mine = client_for(mine).post(url(org, f"domains/{domain.pk}/remove/"))
    assert theirs_via_mine.status_code == 404


def test_the_page_reads_in_a_fixed_number_of_queries(
    org, owner_client, acme_oidc, django_assert_max_num_queries
):
    _, client = owner_client
    client.get(url(org))  # warm: the session and allauth's first reads
    with django_assert_max_num_queries(12) as few:
        client.get(url(org))
    for n in range(5):
        verified_domain(org, f"d{n}.test")
    member(org, "other@acme.test", Role.OWNER)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url(org)).status_code == 200


def test_configuring_oidc_stores_the_secret_encrypted_and_logs_no_secret(org, owner_client, oidc):
    _, client = owner_client
    response = configure_oidc(client, org, oidc)
    assert response.status_code == 302
    saved = _connection(org)
    assert saved.oidc_client_secret.reveal() == CLIENT_SECRET and not saved.enabled
    with org_scope(org), connection.cursor() as cursor:  # row-level security: its organization
        cursor.execute("SELECT oidc_client_secret FROM sso_ssoconnection WHERE id = %s", [saved.pk])
        assert cursor.fetchone()[0].startswith("enc:v1:")
    entry = ActivityEntry.objects.for_org(org).get(action="sso.configured")
    assert CLIENT_SECRET not in str(entry.changes) and entry.changes["secret_changed"] is True


@pytest.mark.parametrize(
    ("issuer", "message"),
    [
        ("http://127.0.0.1:9/", "Could not fetch the discovery document: the address is not"),
        ("{issuer}/other", "did not answer with the document"),
    ],
)
def test_a_bad_issuer_is_refused_and_nothing_is_stored(org, owner_client, oidc, issuer, message):
    _, client = owner_client
    response = configure_oidc(client, org, oidc, oidc_issuer=issuer.format(issuer=oidc.issuer))
    assert response.status_code == 400 and message in response.content.decode()
    assert _connection(org) is None


def test_a_discovery_document_naming_another_issuer_is_refused(org, owner_client, oidc):
    _, client = owner_client
    response = configure_oidc(client, org, oidc, oidc_issuer=oidc.issuer + "/")
    assert response.status_code == 400 and "names another issuer" in response.content.decode()


def test_configuring_saml_from_the_metadata_url(org, owner_client, saml_idp):
    _, client = owner_client
    response = client.post(
        url(org, "connection/"), {"kind": "saml", "saml_metadata_url": saml_idp.metadata_url}
    )
    assert response.status_code == 302
    saved = _connection(org)
    assert (
        saved.saml_idp_entity_id == saml_idp.entity_id
        and saved.saml_x509cert == saml_idp.cert_body()
    )


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<not-xml", "not valid XML metadata"),
        (
            "<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata' entityID='x'/>",
            "names no IdP entity id",
        ),
        ("{broken_cert}", "not a valid X.509 certificate"),
    ],
)
def test_malformed_saml_metadata_is_refused_and_nothing_is_stored(
    org, owner_client, saml_idp, xml, message
):
    _, client = owner_client
    if xml == "{broken_cert}":
        xml = saml_idp.metadata().replace(saml_idp.cert_body(), "bm90IGEgY2VydGlmaWNhdGU=")
    response = client.post(url(org, "connection/"), {"kind": "saml", "saml_metadata_xml": xml})
    assert response.status_code == 400 and message in response.content.decode()
    assert _connection(org) is None


def test_oidc_test_sign_in_then_enable(org, owner_client, oidc):
    boss, client = owner_client
    verified_domain(org)
    configure_oidc(client, org, oidc)
    # Not tested yet: enabling is refused.
    client.post(url(org, "enable/"), {"enabled": "1"})
    assert not _connection(org).enabled
    oidc.user["email"] = "boss@acme.test"
    back = follow_oidc(client, client.post(url(org, "test/")))
    assert back.status_code == 302 and back["Location"] == url(org)
    page = client.get(back["Location"]).content.decode()
    assert "Test sign-in succeeded as boss@acme.test; nobody was signed in." in page
    assert signed_in_user_id(client) == str(boss.user_id)  # still the owner's own session
    assert _connection(org).tested_at is not None
    client.post(url(org, "enable/"), {"enabled": "1"})
    assert _connection(org).enabled
    actions = set(ActivityEntry.objects.for_org(org).values_list("action", flat=True))
    assert {"sso.configured", "sso.tested", "sso.enabled"} <= actions


def test_saml_test_sign_in(org, owner_client, saml_idp):
    _, client = owner_client
    client.post(
        url(org, "connection/"), {"kind": "saml", "saml_metadata_url": saml_idp.metadata_url}
    )
    saml_idp.user["email"] = "boss@acme.test"
    back = saml_post(client, *saml_answer(client.post(url(org, "test/"))))
    assert back.status_code == 302 and back["Location"] == url(org)
    assert _connection(org).tested_at is not None


def test_a_failed_test_leaves_it_untested(org, owner_client, oidc):
    _, client = owner_client
    configure_oidc(client, org, oidc)
    oidc.tamper = {"aud": "another-client"}
    assert follow_oidc(client, client.post(url(org, "test/"))).status_code == 403
    assert _connection(org).tested_at is None


def test_changing_the_configuration_disables_it_until_tested_again(
    org, owner_client, oidc, acme_oidc
):
    _, client = owner_client
    configure_oidc(client, org, oidc, oidc_client_id="new-client", oidc_client_secret="")
    saved = _connection(org)
    assert (
        saved.oidc_client_id == "new-client" and saved.oidc_client_secret.reveal() == CLIENT_SECRET
    )
    assert not saved.enabled and saved.tested_at is None
