"""E-mail domains: what a valid one is, and the two checks that prove the organization
controls it (a DNS TXT record, or a file under ``/.well-known/`` of its web site).

Both look for ``soc2app-verification=<token>``, the domain's own random token. The DNS check
asks ``SSO_DNS_NAMESERVER`` when set (tests run a local DNS server), else the system's
resolvers; the file check fetches ``SSO_VERIFY_FILE_SCHEME://<domain>[:SSO_VERIFY_FILE_PORT]``
through the SSRF guard (``sso.outbound``: public addresses only, resolved through
``SSO_DNS_NAMESERVER`` when set), without following redirects, and reads at most 4 KiB.
"""

from __future__ import annotations

import re
import secrets

import requests
from django.conf import settings

from soc2app.dns_txt import TxtMissing, addresses, require_txt
from sso import outbound

TOKEN_PREFIX = "soc2app-verification="  # noqa: S105 (a label, not a secret)
WELL_KNOWN_PATH = "/.well-known/soc2app-verification.txt"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MAX_FILE = 4096


class CheckFailed(Exception):
    """The domain could not be verified; the message says why and what to do."""


def normalize(raw: str) -> str | None:
    """The domain in lower-case ASCII (IDNA), or None when it is not a valid domain name with
    at least two labels (an address's part after the @ is accepted too)."""
    value = (raw or "").strip().lower().rstrip(".")
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():  # an IP address is not a domain
        return None
    return value


def new_token() -> str:
    return secrets.token_urlsafe(24)


def expected_value(token: str) -> str:
    return f"{TOKEN_PREFIX}{token}"


def check_dns(domain: str, token: str) -> None:
    """Passes when a TXT record of ``domain`` holds the token; raises ``CheckFailed``."""
    try:
        require_txt(domain, expected_value(token))
    except TxtMissing as exc:
        raise CheckFailed(str(exc)) from exc


def file_url(domain: str) -> str:
    port = settings.SSO_VERIFY_FILE_PORT
    host = f"{domain}:{port}" if port else domain
    return f"{settings.SSO_VERIFY_FILE_SCHEME}://{host}{WELL_KNOWN_PATH}"


def _lookup(host: str, port: int) -> list[str]:
    """The domain's addresses from ``SSO_DNS_NAMESERVER`` (the server the TXT check asks)."""
    return addresses(host)


def check_file(domain: str, token: str) -> None:
    """Passes when the domain's well-known file holds the token; raises ``CheckFailed``.
    The request goes through the SSRF guard (``sso.outbound``): a domain whose addresses are
    private (169.254.169.254.nip.io, an internal name) is refused, and the messages never say
    what an address answered."""
    url = file_url(domain)
    headers = {}
    connect_url = url
    if settings.SSO_VERIFY_FILE_HOST:  # tests: a local server stands in for the domain
        port = settings.SSO_VERIFY_FILE_PORT
        target = (
            f"{settings.SSO_VERIFY_FILE_HOST}:{port}" if port else settings.SSO_VERIFY_FILE_HOST
        )
        connect_url = f"{settings.SSO_VERIFY_FILE_SCHEME}://{target}{WELL_KNOWN_PATH}"
        headers["Host"] = domain
    lookup = _lookup if settings.SSO_DNS_NAMESERVER else None
    try:
        response = outbound.session(lookup).get(connect_url, headers=headers)
    except requests.RequestException as exc:
        raise CheckFailed(
            f"File: could not fetch {url}: {outbound.UNREACHABLE} (it must be a public web site)."
        ) from exc
    if response.status_code != 200:
        raise CheckFailed(
            f"File: {url} did not answer with the file (it must be served directly, without "
            "a redirect)."
        )
    body = response.content
    if len(body) > _MAX_FILE:
        raise CheckFailed(f"File: {url} is larger than {_MAX_FILE} bytes.")
    lines = body.decode("utf-8", "replace").split()
    wanted = expected_value(token)
    if wanted not in lines and token not in lines:
        raise CheckFailed(f"File: {url} does not contain {wanted!r}.")
