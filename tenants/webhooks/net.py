"""The SSRF guard and the HTTP client of webhook deliveries.

A URL is accepted only if it is http(s) and *every* address its host resolves to is public.
At delivery time the host is resolved and checked again, and the connection is made to the
address that was checked (not resolved a second time by the HTTP library), so a DNS answer
that changes between check and connect (DNS rebinding) cannot reach an internal address.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from soc2app.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket
    for candidate in [ip, *_embedded_ipv4(ip)]:
        if (
            candidate.is_private
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
            or not candidate.is_global
        ):
            return False
    return True


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an http(s) URL, or ``ValidationFailed``."""
    url = url.strip()
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise ValidationFailed("Remove spaces and control characters from the URL.", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationFailed("This URL is malformed; check the port.", field="url") from exc
    if parts.scheme not in ("http", "https"):
        raise ValidationFailed("Use an http:// or https:// URL.", field="url")
    if not parts.hostname:
        raise ValidationFailed("The URL needs a host name.", field="url")
    if parts.username or parts.password:
        raise ValidationFailed(
            "Remove the user name and password from the URL; verify the signature instead.",
            field="url",
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default_port = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default_port, path


def _system_lookup(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]).split("%", 1)[0] for info in infos]  # drop an IPv6 zone id


def resolve(url: str, lookup: Callable[[str, int], list[str]] | None = None) -> Target:
    """Check ``url`` and resolve its host (with ``lookup`` when given, which may raise
    ``OSError``; else the system's resolver); refuse non-public addresses (unless allowed)."""
    scheme, host, port, path = parse_url(url)
    try:
        found = (lookup or _system_lookup)(host, port)
    except (OSError, UnicodeError) as exc:
        raise ValidationFailed(
            f"The host {host} could not be resolved; check the URL.", field="url"
        ) from exc
    addresses: list[str] = []
    for address in found:
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ValidationFailed(f"The host {host} has no address.", field="url")
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address)):
                raise ValidationFailed(
                    f"{host} points to a private or reserved address ({address}); "
                    "webhooks can only be sent to public internet addresses.",
                    field="url",
                    code="url_not_public",
                )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI are checked against the host name, not the pinned address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Response:
    status: int
    body: str


def open_connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to the first checked address of ``target`` (never resolved
    again); other outbound clients to user-supplied URLs (the GitHub collector) use it too."""
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    return cls(target.host, target.port, target.addresses[0], timeout)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    """POST ``body`` to the first checked address of ``target``; no redirects are followed."""
    conn = open_connection(target, timeout)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        return Response(status=response.status, body=response.read(512).decode(errors="replace"))
    finally:
        conn.close()
