"""A local GitHub REST API for the GitHub collector's tests (fixture ``github``): a real HTTP
server on 127.0.0.1 answering the endpoints the collector reads with GitHub's documented
shapes (docs.github.com/rest, API version 2022-11-28): Link-header pagination (pages of
``page_size`` items, like GitHub's per_page cap), the x-ratelimit-* headers on every answer,
401 "Bad credentials", 404 "Not Found" / "Branch not protected", 403 for a permission the
token lacks, 204/404 for vulnerability alerts, and the GitHub App flow (the JWT's RS256
signature is checked with the App's public key before an installation token is issued)."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.webhook_receiver import local_http_server

DOCS = "https://docs.github.com/rest"
TOKEN = "github_pat_11AAAAAAA0fakeTOKENforTESTSxyz0123456789"
INSTALLATION_TOKEN = "ghs_fakeInstallationToken0123456789abcdef"


def repo(
    name: str,
    *,
    org: str = "acme",
    private: bool = True,
    fork: bool = False,
    archived: bool = False,
    scanning: str | None = "enabled",
    dependabot_updates: str = "enabled",
) -> dict[str, Any]:
    """A repository as "List organization repositories" returns it (the fields we read and a
    few more); ``scanning=None``: no ``security_and_analysis`` (not an admin)."""
    data: dict[str, Any] = {
        "id": abs(hash(name)) % 10**8,
        "node_id": "R_kgDOfake",
        "name": name,
        "full_name": f"{org}/{name}",
        "owner": {"login": org, "id": 1, "type": "Organization"},
        "private": private,
        "visibility": "private" if private else "public",
        "html_url": f"https://github.com/{org}/{name}",
        "fork": fork,
        "archived": archived,
        "disabled": False,
        "default_branch": "main",
        "pushed_at": "2026-12-01T10:00:00Z",
        "permissions": {"admin": True, "push": True, "pull": True},
    }
    if scanning is not None:
        data["security_and_analysis"] = {
            "advanced_security": {"status": "enabled"},
            "secret_scanning": {"status": scanning},
            "secret_scanning_push_protection": {"status": scanning},
            "dependabot_security_updates": {"status": dependabot_updates},
        }
    return data


def protection(approvals: int | None = 1, contexts: tuple[str, ...] = ("ci/test",)) -> dict:
    """A "Get branch protection" answer; ``approvals=None``: no pull request reviews."""
    data: dict[str, Any] = {
        "url": "https://api.github.com/repos/acme/x/branches/main/protection",
        "enforce_admins": {"url": "...", "enabled": True},
        "required_linear_history": {"enabled": False},
        "allow_force_pushes": {"enabled": False},
        "allow_deletions": {"enabled": False},
    }
    if approvals is not None:
        data["required_pull_request_reviews"] = {
            "url": "...",
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": False,
            "required_approving_review_count": approvals,
            "require_last_push_approval": False,
        }
    if contexts:
        data["required_status_checks"] = {
            "url": "...",
            "strict": True,
            "contexts": list(contexts),
            "checks": [{"context": c, "app_id": None} for c in contexts],
        }
    return data


def ruleset_rules(approvals: int = 1, contexts: tuple[str, ...] = ("build",)) -> list[dict]:
    """A "Get rules for a branch" answer: a ruleset requiring a pull request and checks."""
    source = {"ruleset_source_type": "Organization", "ruleset_source": "acme", "ruleset_id": 42}
    return [
        {"type": "deletion", **source},
        {"type": "non_fast_forward", **source},
        {
            "type": "pull_request",
            **source,
            "parameters": {
                "required_approving_review_count": approvals,
                "dismiss_stale_reviews_on_push": True,
                "require_code_owner_review": False,
                "require_last_push_approval": False,
                "required_review_thread_resolution": False,
            },
        },
        {
            "type": "required_status_checks",
            **source,
            "parameters": {
                "strict_required_status_checks_policy": True,
                "required_status_checks": [{"context": c, "integration_id": 1} for c in contexts],
            },
        },
    ]


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class FakeGitHub:
    url: str = ""
    prefix: str = ""  # "/api/v3" for a GitHub Enterprise Server
    token: str = TOKEN
    org: dict[str, Any] = field(
        default_factory=lambda: {
            "login": "acme",
            "id": 1,
            "name": "Acme Corp",
            "two_factor_requirement_enabled": True,
            "public_repos": 1,
        }
    )
    repos: list[dict[str, Any]] = field(default_factory=list)
    protection: dict[str, dict] = field(default_factory=dict)  # full name -> answer
    rules: dict[str, list] = field(default_factory=dict)
    alerts: set[str] = field(default_factory=set)  # full names with Dependabot alerts on
    outside: list[str] = field(default_factory=list)
    forbidden: dict[str, str] = field(default_factory=dict)  # path suffix -> 403 message
    html: set[str] = field(default_factory=set)  # path suffixes answered by a proxy's page
    page_size: int = 100
    rate_limited: bool = False
    secondary_limits: int = 0  # this many next answers are a secondary rate limit
    echo_token: bool = False  # a hostile server: repeats the Authorization header
    delay: float = 0.0
    app_id: int = 4242
    installation_id: int = 77
    app_public_key: Any = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    remaining: int = 5000

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


class _Handler(BaseHTTPRequestHandler):
    state: FakeGitHub  # set on the subclass the fixture makes
    protocol_version = "HTTP/1.1"  # keep-alive, like api.github.com
    # Headers and body in one segment (no Nagle / delayed-ACK pause per answer).
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:
        pass

    # ---- answers ----
    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        state = self.state
        state.remaining = max(0, state.remaining - 1)
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        self.send_header("x-ratelimit-limit", "5000")
        self.send_header("x-ratelimit-remaining", str(state.remaining))
        self.send_header("x-ratelimit-used", str(5000 - state.remaining))
        self.send_header("x-ratelimit-reset", str(int(time.time()) + 1800))
        self.send_header("x-ratelimit-resource", "core")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(
            status, {"message": message, "documentation_url": DOCS, "status": str(status)}, headers
        )

    def _page(self, items: list, path: str, query: dict[str, list[str]]) -> None:
        """One page of ``items``; the Link header's URLs are absolute, like GitHub's."""
        per_page = min(int(query.get("per_page", ["30"])[0]), self.state.page_size)
        page = int(query.get("page", ["1"])[0])
        last = max(1, -(-len(items) // per_page))
        links = []
        base = f"{self.state.url}{self.state.prefix}{path}"
        if page < last:
            links.append(f'<{base}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{base}?per_page={per_page}&page={last}>; rel="last"')
        if page > 1:
            links.append(f'<{base}?per_page={per_page}&page=1>; rel="first"')
        headers = {"Link": ", ".join(links)} if links else {}
        self._send(200, items[(page - 1) * per_page : page * per_page], headers)

    # ---- authentication ----
    def _jwt_ok(self) -> bool:
        auth = self.headers.get("Authorization", "")
        parts = auth.removeprefix("Bearer ").split(".")
        if not auth.startswith("Bearer ") or len(parts) != 3:
            return False
        header, payload = json.loads(_b64decode(parts[0])), json.loads(_b64decode(parts[1]))
        try:
            self.state.app_public_key.verify(
                _b64decode(parts[2]),
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:
            return False
        now = time.time()
        return (
            header.get("alg") == "RS256"
            and payload.get("iss") == str(self.state.app_id)
            and payload["iat"] <= now <= payload["exp"]
            and payload["exp"] - payload["iat"] <= 600
        )

    def _token_ok(self) -> bool:
        auth = self.headers.get("Authorization", "")
        return auth in (f"Bearer {self.state.token}", f"token {self.state.token}")

    # ---- routes ----
    def do_POST(self) -> None:
        self._route("POST")

    def do_GET(self) -> None:
        self._route("GET")

    def _route(self, method: str) -> None:  # noqa: C901 (one table of routes)
        state = self.state
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        state.requests.append(
            {"method": method, "path": self.path, "headers": dict(self.headers.items())}
        )
        if state.delay:
            time.sleep(state.delay)
        if not path.startswith(state.prefix):
            return self._error(404, "Not Found")
        path = path.removeprefix(state.prefix)
        if state.secondary_limits:
            state.secondary_limits -= 1
            return self._error(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again.",
                {"retry-after": "0"},
            )
        if path.startswith("/app"):
            if not self._jwt_ok():
                return self._error(401, "A JSON web token could not be decoded")
            if path == "/app":
                return self._send(200, {"id": state.app_id, "slug": "soc2-checker", "name": "SOC2"})
            if path == f"/app/installations/{state.installation_id}/access_tokens":
                state.token = INSTALLATION_TOKEN
                return self._send(
                    201,
                    {
                        "token": INSTALLATION_TOKEN,
                        "expires_at": "2026-12-07T05:00:00Z",
                        "permissions": {"administration": "read", "metadata": "read"},
                        "repository_selection": "all",
                    },
                )
            return self._error(404, "Not Found")
        if not self._token_ok():
            message = "Bad credentials"
            if state.echo_token:
                message += f" ({self.headers.get('Authorization')})"
            return self._error(401, message)
        if state.rate_limited:
            state.remaining = 1  # the answer below spends the last one
            return self._error(403, "API rate limit exceeded for user ID 1.")
        if any(path.endswith(suffix) for suffix in state.html):
            page = b"<html><body>Sign in to the proxy</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return None
        for suffix, message in state.forbidden.items():
            if path.endswith(suffix):
                echo = f" ({self.headers.get('Authorization')})" if state.echo_token else ""
                return self._error(403, message + echo)
        login = state.org["login"]
        if path == "/user":
            return self._send(200, {"login": "octocat", "id": 1, "type": "User"})
        if path == f"/orgs/{login}":
            return self._send(200, state.org)
        if path in (f"/orgs/{login}/repos", f"/organizations/{state.org['id']}/repos"):
            # GitHub's next links for this list name the organization by id.
            return self._page(state.repos, f"/organizations/{state.org['id']}/repos", query)
        if path == f"/orgs/{login}/outside_collaborators":
            users = [
                {"login": u, "id": 100 + i, "type": "User"} for i, u in enumerate(state.outside)
            ]
            return self._page(users, path, query)
        if path.startswith("/orgs/"):
            return self._error(404, "Not Found")
        return self._repo_route(path, query)

    def _repo_route(self, path: str, query: dict[str, list[str]]) -> None:
        state = self.state
        by_name = {r["full_name"]: r for r in state.repos}
        found = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if not found or found.group(1) not in by_name:
            return self._error(404, "Not Found")
        name, rest = found.group(1), found.group(2) or ""
        if rest == "":
            return self._send(200, by_name[name])
        if rest == "/branches/main/protection":
            if name in state.protection:
                return self._send(200, state.protection[name])
            return self._error(404, "Branch not protected")
        if rest == "/rules/branches/main":
            return self._page(state.rules.get(name, []), path, query)
        if rest == "/vulnerability-alerts":
            return self._send(204) if name in state.alerts else self._send(404)
        return self._error(404, "Not Found")


@pytest.fixture(name="github")
def github_fixture() -> Iterator[FakeGitHub]:
    """A fresh local GitHub; requests are answered until the test ends."""
    state = FakeGitHub()
    with local_http_server(type("Handler", (_Handler,), {"state": state})) as url:
        state.url = url
        yield state


def app_key() -> tuple[str, Any]:
    """A fresh GitHub App key: its PEM (what the user pastes) and its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()
