"""The HTTP client of single sign-on: every request to an identity provider (discovery, keys,
token, userinfo, SAML metadata) and to a domain's well-known file goes through
``tenants.webhooks.net``'s SSRF guard.

The host is resolved and every address checked (private, loopback, link-local and NAT64
addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE``, which production refuses), then the
connection is made to the checked address while TLS verifies the certificate and sends SNI for
the host name. Redirects are never followed, and at most ``MAX_BODY`` bytes are read. A refused
or failed request raises ``Unreachable`` (a ``requests.ConnectionError``) whose message says
nothing of the address or of what came back."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from soc2app.errors import ValidationFailed
from tenants.webhooks import net

MAX_BODY = 1024 * 1024
UNREACHABLE = "the address is not reachable from the app"

Lookup = Callable[[str, int], list[str]]


class Unreachable(requests.ConnectionError):
    """Refused by the guard, or the connection failed; the message is fixed."""


class GuardedAdapter(BaseAdapter):
    def __init__(self, lookup: Lookup | None = None) -> None:
        super().__init__()
        self.lookup = lookup

    def send(  # noqa: PLR0913 (requests' signature)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        try:
            target = net.resolve(request.url or "", lookup=self.lookup)
        except ValidationFailed as exc:
            raise Unreachable(UNREACHABLE, request=request) from exc
        if isinstance(timeout, tuple):
            timeout = max(t for t in timeout if t is not None) if any(timeout) else None
        conn = net.open_connection(
            target, float(timeout or settings.SOCIALACCOUNT_REQUESTS_TIMEOUT)
        )
        headers = dict(request.headers)
        headers["Accept-Encoding"] = "identity"  # http.client does not decompress
        try:
            conn.request(request.method or "GET", target.path, body=request.body, headers=headers)
            raw = conn.getresponse()
            body = raw.read(MAX_BODY + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise Unreachable(UNREACHABLE, request=request) from exc
        finally:
            conn.close()
        response = requests.Response()
        response.status_code = raw.status
        response.reason = raw.reason
        response.headers = CaseInsensitiveDict(raw.getheaders())
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = body[: MAX_BODY + 1]
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


class GuardedSession(requests.Session):
    """A session that only reaches public addresses and never follows a redirect."""

    def __init__(self, lookup: Lookup | None = None) -> None:
        super().__init__()
        self.trust_env = False  # no proxies from the environment: the guard decides
        adapter = GuardedAdapter(lookup)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        kwargs.setdefault("timeout", settings.SOCIALACCOUNT_REQUESTS_TIMEOUT)
        return super().request(method, url, *args, **kwargs)


def session(lookup: Lookup | None = None) -> GuardedSession:
    return GuardedSession(lookup)
