"""The client's IP address, the one way: allauth's rate limits, the API and the activity log's
download entries all ask ``client_ip``.

Behind a reverse proxy ``REMOTE_ADDR`` is the proxy, so every client would share one address
(ten failed logins anywhere would lock everyone out). ``TRUSTED_PROXY_COUNT`` says how many
proxies of ours stand in front of the app: each appends the address it received the request
from to ``X-Forwarded-For``, so the client is the entry that many places from the right.
Entries further left were sent by the client and are ignored (anyone can forge them).
``TRUSTED_CLIENT_IP_HEADER`` instead names a header that the proxy sets to the client address
(such as ``X-Real-IP``); the proxy must overwrite any value the client sent.
"""

from __future__ import annotations

import ipaddress

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


def _clean(value: str | None) -> str | None:
    """A valid IP address out of ``value`` (port and IPv6 brackets dropped), else None."""
    value = (value or "").strip()
    if not value:
        return None
    if value.startswith("["):  # [2001:db8::1]:443
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # 203.0.113.9:443
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address per the trusted-proxy settings; the peer's when nothing better
    can be trusted (never a value only the client controls)."""
    remote = _clean(request.META.get("REMOTE_ADDR")) or "0.0.0.0"  # noqa: S104 (a label, not a bind)
    header = settings.TRUSTED_CLIENT_IP_HEADER
    if header:
        return _clean(request.headers.get(header)) or remote
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if count <= 0 or not forwarded:
        return remote
    # Fewer entries than proxies: the request skipped an outer proxy; the leftmost entry was
    # still written by one of ours (allauth would raise ImproperlyConfigured, a 500, here).
    chosen = forwarded[-count] if len(forwarded) >= count else forwarded[0]
    return _clean(chosen) or remote


class AccountAdapter(DefaultAccountAdapter):
    """allauth's adapter with our client address (its failed-login and signup limits)."""

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request)
