"""A real OpenID Connect provider for the tests: a local HTTP server speaking the protocol
(discovery, JWKS, authorize with PKCE, token with client authentication, userinfo) and
signing its ID tokens with RS256 (joserfc). Nothing in the application is patched: the app
talks to it over HTTP like to Okta or Entra ID.

``tamper`` makes it misbehave on purpose: wrong ``iss``/``aud``/``nonce``, a time offset
(clock skew), or another signing key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.sso.local_server import LocalHttpServer

CLIENT_ID = "soc2app-test-client"
CLIENT_SECRET = "test-client-secret"  # noqa: S105 (a local test server's)


class OidcProvider(LocalHttpServer):
    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"})
        self.user: dict[str, Any] = {"sub": "user-1", "email": "ana@acme.test"}
        self.tamper: dict[str, Any] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.authorize_requests: list[dict[str, str]] = []
        super().__init__(_handler(self))
        self.issuer = self.base

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.tamper.get(
                "authorization_endpoint", f"{self.issuer}/authorize"
            ),
            "token_endpoint": self.tamper.get("token_endpoint", f"{self.issuer}/token"),
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str]]:
        """Sign the configured user in at once (no login form) and send them back."""
        self.authorize_requests.append(params)
        if params.get("client_id") != CLIENT_ID or params.get("response_type") != "code":
            return 400, {}
        code = secrets.token_urlsafe(16)
        self.codes[code] = params
        query = urlencode({"code": code, "state": params.get("state", "")})
        return 302, {"Location": f"{params['redirect_uri']}?{query}"}

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization.startswith("Basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        request = self.codes.pop(form.get("code", ""), None)
        if request is None or request.get("redirect_uri") != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if request.get("code_challenge") != challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        now = int(time.time()) + int(self.tamper.get("time_offset", 0))
        claims = {
            "iss": self.tamper.get("iss", self.issuer),
            "aud": self.tamper.get("aud", CLIENT_ID),
            "sub": self.user["sub"],
            "email": self.user["email"],
            "iat": now,
            "exp": now + 300,
            "nonce": self.tamper.get("nonce", request.get("nonce")),
            **self.tamper.get("claims", {}),
        }
        key = self.other_key if self.tamper.get("wrong_key") else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        access = secrets.token_urlsafe(16)
        self.codes[f"access:{access}"] = dict(self.user)
        return 200, {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }

    def userinfo(self, authorization: str) -> tuple[int, dict[str, Any]]:
        user = self.codes.get(f"access:{authorization.removeprefix('Bearer ')}")
        return (200, user) if user else (401, {"error": "invalid_token"})


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif url.path == "/jwks":
                self._json(200, {"keys": [provider.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                status, headers = provider.authorize(params)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif url.path == "/userinfo":
                self._json(*provider.userinfo(self.headers.get("Authorization", "")))
            else:
                self._json(404, {"error": "not found"})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if urlparse(self.path).path == "/token":
                self._json(*provider.token(form, self.headers.get("Authorization", "")))
            else:
                self._json(404, {"error": "not found"})

    return Handler
