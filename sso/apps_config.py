"""The organization's connection as allauth sees it: an unsaved ``SocialApp`` built on each
request (allauth's own table holds no tenant configuration).

Provider ids carry the organization's slug: ``oidc-<slug>`` (the OpenID Connect callback is
``/accounts/oidc/oidc-<slug>/login/callback/``) and, for SAML, the ``saml`` provider with the
slug as its client id (``/accounts/saml/<slug>/acs/``) and ``saml-<slug>`` as its sub-id (which
keys allauth's state and its ``SocialAccount`` rows).
"""

from __future__ import annotations

from contextlib import nullcontext

from allauth.socialaccount.models import SocialApp
from onelogin.saml2.constants import OneLogin_Saml2_Constants

from sso.models import ConnectionKind, SsoConnection
from tenants.context import current_org_id, org_scope
from tenants.models import Organization

OIDC_PREFIX = "oidc-"
SAML_PREFIX = "saml-"
ORG_SETTING = "sso_org_id"
# The provider id of the sign-in allauth is finishing in this session (see sso.adapter).
PENDING_PROVIDER_KEY = "sso_pending_provider"
# What allauth reads from a SAML assertion: the usual e-mail attribute names of Okta, Entra ID
# and Google, then the NameID when its format is an e-mail address.
SAML_ATTRIBUTES = {
    "uid": ["urn:oasis:names:tc:SAML:attribute:subject-id"],
    "email": [
        "email",
        "mail",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    ],
    "first_name": [
        "firstName",
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    ],
    "last_name": [
        "lastName",
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    ],
}


def oidc_provider_id(slug: str) -> str:
    return f"{OIDC_PREFIX}{slug}"


def _slug_and_kind(provider: str | None, client_id: str | None) -> tuple[str, str] | None:
    if provider == "saml" and client_id:
        return client_id, ConnectionKind.SAML
    if provider and provider.startswith(SAML_PREFIX):
        return provider.removeprefix(SAML_PREFIX), ConnectionKind.SAML
    if provider and provider.startswith(OIDC_PREFIX):
        return provider.removeprefix(OIDC_PREFIX), ConnectionKind.OIDC
    return None


def connection_of(org: Organization) -> SsoConnection | None:
    scope = nullcontext() if current_org_id() == org.pk else org_scope(org)
    with scope:
        return SsoConnection.objects.for_org(org).first()


def app_for(org: Organization, connection: SsoConnection) -> SocialApp:
    """The unsaved app allauth drives for this connection (enabled or being tested)."""
    if connection.kind == ConnectionKind.OIDC:
        return SocialApp(
            provider="openid_connect",
            provider_id=oidc_provider_id(org.slug),
            name=org.name,
            client_id=connection.oidc_client_id,
            secret=connection.oidc_client_secret.reveal() if connection.oidc_client_secret else "",
            settings={
                "server_url": connection.oidc_issuer,
                "oauth_pkce_enabled": True,
                ORG_SETTING: org.pk,
            },
        )
    return SocialApp(
        provider="saml",
        provider_id=f"{SAML_PREFIX}{org.slug}",
        name=org.name,
        client_id=org.slug,
        settings={
            "idp": {
                "entity_id": connection.saml_idp_entity_id,
                "sso_url": connection.saml_sso_url,
                "x509cert": connection.saml_x509cert,
            },
            "attribute_mapping": SAML_ATTRIBUTES,
            "advanced": {
                "strict": True,
                # Assertions must be signed by the IdP's certificate; SHA-1 is refused.
                "want_assertion_signed": True,
                "reject_deprecated_algorithm": True,
                "reject_idp_initiated_sso": True,
                # python3-saml refuses URLs on single-label hosts (localhost) by default: ours.
                "allow_single_label_domains": True,
                "digest_algorithm": OneLogin_Saml2_Constants.SHA256,
                "signature_algorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            },
            ORG_SETTING: org.pk,
        },
    )


def apps_for(provider: str | None, client_id: str | None) -> list[SocialApp]:
    """``SocialAccountAdapter.list_apps``: the one app of the organization the provider id
    names, when it has a connection of that kind; nothing for a generic listing."""
    found = _slug_and_kind(provider, client_id)
    if found is None:
        return []
    slug, kind = found
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        return []
    connection = connection_of(org)
    if connection is None or connection.kind != kind:
        return []
    return [app_for(org, connection)]
