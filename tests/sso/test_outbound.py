"""The SSRF guard of single sign-on (``sso.outbound``): what an internal address answers never
reaches the owner, at sign-in (token endpoint) nor at configuration (discovery, domain file)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest
import requests

from soc2app.errors import ValidationFailed
from sso import idp_checks, outbound, services
from sso.domains import expected_value
from sso.models import SsoConnection
from tenants.models import ActivityEntry
from tests.sso.conftest import member, oidc_sign_in, signed_in_user_id
from tests.sso.local_server import LocalHttpServer
from tests.sso.verification_servers import LocalDns, LocalWeb

pytestmark = pytest.mark.django_db

SECRET = "SECRET-INSTANCE-CREDENTIALS-0123"  # noqa: S105 (what an internal service answers)


class Internal(LocalHttpServer):
    """An internal service (cloud metadata): answers ``SECRET`` to anything; ``/hop`` is an
    outside server's redirect to it."""

    def __init__(self, status: int = 200) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                if self.path.startswith("/hop"):
                    self.send_response(302)
                    self.send_header("Location", f"{server.base}/latest/meta-data")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = SECRET.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer  # noqa: N815

        super().__init__(Handler)
        server = self


def _logged(org) -> str:
    return str(list(ActivityEntry.objects.for_org(org).values_list("changes", flat=True)))


@pytest.mark.parametrize(("path", "status"), [("/hop", 200), ("/metadata", 400)])
def test_a_token_endpoint_that_leads_to_an_internal_address_shows_nothing_of_it(
    client, org, oidc, acme_oidc, path, status
):
    member(org, "ana@acme.test")
    with Internal(status) as internal:
        oidc.tamper = {"token_endpoint": f"{internal.base}{path}"}
        response = oidc_sign_in(client, "ana@acme.test")
    assert response.status_code == 403
    assert b"answer was refused" in response.content
    assert SECRET.encode() not in response.content
    assert SECRET not in _logged(org)
    assert ActivityEntry.objects.for_org(org).filter(action="sso.signin_refused").exists()
    assert signed_in_user_id(client) is None


def test_the_guard_refuses_private_addresses_and_redirects(settings):
    with Internal() as internal:
        settings.WEBHOOK_ALLOW_PRIVATE = False
        with pytest.raises(outbound.Unreachable, match="not reachable from the app"):
            outbound.session().get(f"{internal.base}/latest/meta-data")
        settings.WEBHOOK_ALLOW_PRIVATE = True
        hop = outbound.session().get(f"{internal.base}/hop")
    assert hop.status_code == 302 and hop.content == b""  # not followed


def test_a_discovery_at_a_private_address_is_refused_with_a_fixed_message(owner, settings):
    with Internal() as internal:
        settings.WEBHOOK_ALLOW_PRIVATE = False
        with pytest.raises(ValidationFailed) as caught:
            services.connection_configure_oidc(
                membership=owner,
                issuer=internal.base,
                client_id="c",
                client_secret="s",  # noqa: S106
            )
    message = str(caught.value)
    assert "Could not fetch the discovery document: the address is not reachable" in message
    assert "127.0.0.1" not in message and SECRET not in message
    assert not SsoConnection.objects.for_org(owner.organization).exists()


def test_an_http_authorization_endpoint_is_refused_without_the_private_flag(owner, oidc, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert not idp_checks.https_endpoint(f"{oidc.issuer}/authorize")
    assert idp_checks.https_endpoint("https://idp.example/authorize")
    oidc.tamper = {"authorization_endpoint": "javascript:alert(1)"}
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with pytest.raises(ValidationFailed, match="authorization_endpoint is not an https"):
        idp_checks.check_oidc_discovery(oidc.issuer)


def test_a_domain_whose_name_resolves_to_a_private_address_is_refused(owner, settings):
    row = services.domain_add(membership=owner, domain="acme.test")
    with LocalDns() as dns, LocalWeb() as web:
        web.files["acme.test"] = (200, expected_value(row.token) + "\n" + SECRET)
        dns.records.a["acme.test"] = ["127.0.0.1"]
        settings.SSO_DNS_NAMESERVER = f"127.0.0.1:{dns.port}"
        settings.SSO_VERIFY_FILE_SCHEME = "http"
        settings.SSO_VERIFY_FILE_PORT = web.port
        settings.SSO_VERIFY_FILE_HOST = ""
        settings.WEBHOOK_ALLOW_PRIVATE = False
        with pytest.raises(ValidationFailed, match="not reachable from the app") as caught:
            services.domain_verify(membership=owner, domain_id=row.pk, method="file")
        assert "127.0.0.1" not in str(caught.value)
        settings.WEBHOOK_ALLOW_PRIVATE = True  # the same name, allowed: it is the file
        services.domain_verify(membership=owner, domain_id=row.pk, method="file")


def test_requests_is_what_raises(settings):
    assert issubclass(outbound.Unreachable, requests.RequestException)


@pytest.mark.parametrize("endpoint", ["javascript:alert(1)//", "ftp://idp.example/authorize"])
def test_a_sign_in_is_not_sent_to_a_non_https_authorization_endpoint(
    client, org, oidc, acme_oidc, endpoint
):
    """The IdP changed its discovery after it was configured."""
    member(org, "ana@acme.test")
    oidc.tamper = {"authorization_endpoint": endpoint}
    response = client.post("/sso/", {"email": "ana@acme.test"})
    assert response.status_code == 403 and endpoint.encode() not in response.content
    assert b"not an https:// address" in response.content
    entry = ActivityEntry.objects.for_org(org).get(action="sso.signin_refused")
    assert entry.changes["reason"] == "idp_not_https"
