"""A real SAML 2.0 identity provider for the tests: a local HTTP server that publishes its
metadata, takes an AuthnRequest by the HTTP-Redirect binding, and answers with a Response
whose Assertion is signed (XML-DSig, RSA-SHA256, through the ``xmlsec`` library, with
python3-saml's signing helper) for the HTTP-POST binding: an HTML form the test's "browser"
posts to our ACS URL.

(pysaml2 7.5.5 would do the same, but it needs pyOpenSSL 26.4, which caps ``cryptography``
below 51 while the app pins 51.0.1: they cannot share the environment.)

``tamper`` makes it misbehave: unsigned, signed with another key, another audience, a time
offset (clock skew), no InResponseTo (IdP-initiated).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import secrets
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from tests.sso.local_server import LocalHttpServer

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


def key_and_cert(name: str = "Test IdP") -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def _instant(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class SamlIdp(LocalHttpServer):
    def __init__(self) -> None:
        self.key, self.cert = key_and_cert()
        self.other_key, self.other_cert = key_and_cert("Impostor")
        self.user: dict[str, Any] = {"email": "ana@acme.test"}
        self.tamper: dict[str, Any] = {}
        self.requests: list[dict[str, str]] = []
        super().__init__(_handler(self))
        self.entity_id = f"{self.base}/metadata"

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/metadata"

    def cert_body(self) -> str:
        return "".join(self.cert.strip().splitlines()[1:-1])

    def metadata(self) -> str:
        return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{self.entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data><ds:X509Certificate>{self.cert_body()}</ds:X509Certificate></ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{self.base}/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""

    def authn_request(self, saml_request: str) -> dict[str, str]:
        xml = zlib.decompress(base64.b64decode(saml_request), -15)
        root = etree.fromstring(xml)  # noqa: S320 (our own application's request, in a test)
        issuer = root.find(f"{{{SAML}}}Issuer")
        return {
            "id": root.get("ID"),
            "acs": root.get("AssertionConsumerServiceURL"),
            "issuer": issuer.text if issuer is not None else "",
        }

    def response(self, request: dict[str, str]) -> str:
        """The signed SAML Response (base64) for the current user."""
        now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.tamper.get("time_offset", 0))
        acs = request["acs"]
        audience = self.tamper.get("audience", request["issuer"])
        in_response_to = (
            "" if self.tamper.get("unsolicited") else f' InResponseTo="{request["id"]}"'
        )
        email = html.escape(self.user["email"])
        assertion_id = "_a" + secrets.token_hex(16)
        assertion = f"""<saml:Assertion xmlns:saml="{SAML}" ID="{assertion_id}" Version="2.0" IssueInstant="{_instant(now)}"><saml:Issuer>{self.entity_id}</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{email}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{_instant(now + dt.timedelta(minutes=5))}" Recipient="{acs}"{in_response_to}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{_instant(now - dt.timedelta(seconds=30))}" NotOnOrAfter="{_instant(now + dt.timedelta(minutes=5))}"><saml:AudienceRestriction><saml:Audience>{html.escape(audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{_instant(now)}" SessionIndex="_s{secrets.token_hex(8)}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>{email}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"""
        if not self.tamper.get("unsigned"):
            key, cert = (
                (self.other_key, self.other_cert)
                if self.tamper.get("wrong_key")
                else (self.key, self.cert)
            )
            signed = OneLogin_Saml2_Utils.add_sign(assertion, key, cert)
            assertion = signed.decode() if isinstance(signed, bytes) else signed
            assertion = re.sub(r"^<\?xml[^>]*\?>\s*", "", assertion)
        response = f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_r{secrets.token_hex(16)}" Version="2.0" IssueInstant="{_instant(now)}" Destination="{acs}"{in_response_to}><saml:Issuer>{self.entity_id}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>{assertion}</samlp:Response>"""
        return base64.b64encode(response.encode()).decode()

    def sso(self, params: dict[str, str]) -> str:
        request = self.authn_request(params["SAMLRequest"])
        self.requests.append(request)
        saml_response = self.response(request)
        relay = html.escape(params.get("RelayState", ""))
        return f"""<!DOCTYPE html><html><body><form method="post" action="{html.escape(request["acs"])}">
<input type="hidden" name="SAMLResponse" value="{saml_response}">
<input type="hidden" name="RelayState" value="{relay}">
<button type="submit">Continue</button></form></body></html>"""


def _handler(idp: SamlIdp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: str, content_type: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            if url.path == "/metadata":
                self._send(200, idp.metadata(), "application/samlmetadata+xml")
            elif url.path == "/sso":
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                self._send(200, idp.sso(params), "text/html")
            else:
                self._send(404, "not found", "text/plain")

    return Handler


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The IdP's auto-post form: where it posts, and its hidden fields."""
    action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page)
    }
    return action, fields
