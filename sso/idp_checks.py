"""Reading what the identity provider publishes, before anything is saved or enabled: SAML
metadata (from a URL or pasted XML) and the OpenID Connect discovery document with its keys.
Every failure is a ``ValidationFailed`` that says what was wrong."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from cryptography import x509
from django.conf import settings
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from soc2app.errors import ValidationFailed
from sso import outbound

MAX_DOCUMENT = 1024 * 1024


@dataclass(frozen=True)
class SamlIdp:
    entity_id: str
    sso_url: str
    x509cert: str


def _get(url: str, what: str, field: str) -> requests.Response:
    """``url`` through the SSRF guard (``sso.outbound``). The messages are fixed: they say
    which document failed, never an address, a status or what came back (an owner must not
    learn what an internal address answers)."""
    try:
        response = outbound.session().get(url)
    except requests.RequestException as exc:
        raise ValidationFailed(
            f"Could not fetch {what}: {outbound.UNREACHABLE}. Use the identity provider's "
            "public https address.",
            field=field,
        ) from exc
    if response.status_code != 200 or len(response.content) > MAX_DOCUMENT:
        raise ValidationFailed(
            f"Could not fetch {what}: the address did not answer with the document (check "
            "the URL; redirects are not followed, and it must be at most 1 MB).",
            field=field,
        )
    return response


def https_endpoint(url: str) -> bool:
    """Browsers are sent to the authorization endpoint: https (http only where private
    addresses are allowed, i.e. in tests and development)."""
    scheme = urlsplit(url).scheme
    return scheme == "https" or (scheme == "http" and settings.WEBHOOK_ALLOW_PRIVATE)


def fetch_saml_metadata(url: str) -> str:
    return _get(url, "the SAML metadata", "saml_metadata_url").text


def parse_saml_metadata(xml: str, *, field: str) -> SamlIdp:
    """The IdP's entity id, HTTP-Redirect sign-in URL and signing certificate."""
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml)
    except Exception as exc:  # lxml/defusedxml raise many types for bad XML
        raise ValidationFailed(
            "The SAML metadata is not valid XML metadata of an identity provider "
            f"({type(exc).__name__}).",
            field=field,
        ) from exc
    idp = parsed.get("idp") or {}
    entity_id = idp.get("entityId") or ""
    sso_url = (idp.get("singleSignOnService") or {}).get("url") or ""
    cert = idp.get("x509cert") or ""
    if not cert:
        certs = (idp.get("x509certMulti") or {}).get("signing") or []
        cert = certs[0] if certs else ""
    if not entity_id or not sso_url:
        raise ValidationFailed(
            "The SAML metadata names no IdP entity id or no single sign-on service URL.",
            field=field,
        )
    if not https_endpoint(sso_url):
        raise ValidationFailed(
            "The SAML metadata's single sign-on service URL is not an https:// address.",
            field=field,
        )
    if not cert:
        raise ValidationFailed("The SAML metadata has no signing certificate.", field=field)
    pem = "-----BEGIN CERTIFICATE-----\n" + cert.strip() + "\n-----END CERTIFICATE-----\n"
    try:
        x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise ValidationFailed(
            "The SAML metadata's signing certificate is not a valid X.509 certificate.",
            field=field,
        ) from exc
    return SamlIdp(entity_id=entity_id, sso_url=sso_url, x509cert=cert.strip())


def check_oidc_discovery(issuer: str) -> dict:
    """The discovery document, checked: its issuer is exactly ours, the endpoints sign-in uses
    are there, and its key set has at least one key."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        config = _get(url, "the discovery document", "oidc_issuer").json()
    except ValueError as exc:
        raise ValidationFailed("The discovery document is not JSON.", field="oidc_issuer") from exc
    if not isinstance(config, dict) or config.get("issuer") != issuer:
        raise ValidationFailed(
            "The discovery document names another issuer: enter the issuer exactly as the "
            "identity provider states it.",
            field="oidc_issuer",
        )
    missing = [
        key
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(config.get(key), str)
    ]
    if missing:
        raise ValidationFailed(
            f"The discovery document lacks {', '.join(missing)}.", field="oidc_issuer"
        )
    if not https_endpoint(config["authorization_endpoint"]):
        raise ValidationFailed(
            "The discovery document's authorization_endpoint is not an https:// address.",
            field="oidc_issuer",
        )
    try:
        keys = _get(config["jwks_uri"], "the key set", "oidc_issuer").json().get("keys")
    except (ValueError, AttributeError) as exc:
        raise ValidationFailed(
            "The key set is not a JSON Web Key Set.", field="oidc_issuer"
        ) from exc
    if not keys:
        raise ValidationFailed("The key set has no keys.", field="oidc_issuer")
    return config
