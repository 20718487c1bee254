"""The GitHub REST client of the GitHub collector (``monitoring.collectors.github``).

* Every request goes to the API's base URL (github.com or a GitHub Enterprise Server) through
  the webhook SSRF guard: the host is resolved once, every address must be public (unless
  ``WEBHOOK_ALLOW_PRIVATE``, development and tests only), and connections go to the address
  that was checked (``tenants.webhooks.net``). A next-page link to another host is refused.
* Headers: ``Accept: application/vnd.github+json``, ``X-GitHub-Api-Version: 2022-11-28``.
* Lists are read 100 items a page, following the ``Link`` header's ``rel="next"``.
* Rate limits: a 403/429 with ``x-ratelimit-remaining: 0`` stops the run with the time it
  resets; a secondary limit (``retry-after``) is waited out a few times, then stops the run.
* 401 stops the run ("the token was rejected"); a timeout or an unreachable host too.
* Credentials: a token (fine-grained or classic), or GitHub App credentials whose RS256 JWT
  (signed here with ``cryptography``) is exchanged for an installation token. Neither, nor
  the JWT, ever reaches a log, an error message or the raw output: every text that came from
  the server is scrubbed of them before it is shown.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from monitoring.collectors import CollectorError
from soc2app.errors import ValidationFailed
from tenants.webhooks import net

logger = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
USER_AGENT = "soc2app-monitoring"
TIMEOUT = 20.0  # seconds per request
MAX_BODY = 16 * 1024 * 1024  # one page of JSON
MAX_PAGES = 200  # per list: 20,000 items
SECONDARY_RETRIES = 3
SECONDARY_MAX_WAIT = 60  # seconds; a longer retry-after stops the run instead
_TOKEN = re.compile(r"[\x21-\x7e]{1,1000}")
_APP_ID = re.compile(r"[A-Za-z0-9.]{1,100}")
_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


@dataclass(frozen=True)
class TokenCredentials:
    token: str = field(repr=False)


@dataclass(frozen=True)
class AppCredentials:
    app_id: str
    installation_id: int
    private_key: str = field(repr=False)


def parse_credentials(text: str) -> TokenCredentials | AppCredentials:
    """A token, or a JSON object ``{"app_id", "installation_id", "private_key"}``."""
    text = (text or "").strip()
    if not text:
        raise CollectorError("Paste a GitHub token or GitHub App credentials first.")
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise CollectorError(
                "The GitHub App credentials are not valid JSON: paste "
                '{"app_id": ..., "installation_id": ..., "private_key": "-----BEGIN ..."}.'
            ) from None
        app_id = str(data.get("app_id", "")).strip() if isinstance(data, dict) else ""
        installation = str(data.get("installation_id", "")).strip() if app_id else ""
        key = data.get("private_key") if app_id else None
        if not (_APP_ID.fullmatch(app_id) and installation.isdigit() and isinstance(key, str)):
            raise CollectorError(
                "GitHub App credentials need app_id, installation_id (a number) and "
                "private_key (the .pem file's text)."
            )
        return AppCredentials(app_id=app_id, installation_id=int(installation), private_key=key)
    if not _TOKEN.fullmatch(text):
        raise CollectorError(
            "This does not look like a GitHub token (no spaces or line breaks in a token)."
        )
    return TokenCredentials(token=text)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def app_jwt(app: AppCredentials, now: float | None = None) -> str:
    """The JWT a GitHub App signs to ask for an installation token: RS256, issued a minute in
    the past (clock drift), valid nine minutes (GitHub allows ten)."""
    try:
        key = serialization.load_pem_private_key(app.private_key.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CollectorError(
            "The GitHub App's private_key is not a readable PEM key: paste the whole .pem "
            "file GitHub generated (unencrypted)."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CollectorError("The GitHub App's private_key must be the RSA key GitHub generated.")
    issued = int(now if now is not None else time.time()) - 60
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"iat": issued, "exp": issued + 600, "iss": app.app_id}).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    path: str
    scrub: Callable[[str], str] = field(repr=False, default=lambda text: text)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise CollectorError(
                f"GitHub answered {self.path.split('?')[0]} with something that is not JSON "
                f"(HTTP {self.status})."
            ) from None

    def object(self) -> dict[str, Any]:
        """The answer's JSON object; empty when the status is not 2xx or it is no object."""
        data = self.json() if 200 <= self.status < 300 else None
        return data if isinstance(data, dict) else {}

    @property
    def message(self) -> str:
        """GitHub's own explanation of an error (its ``message``), short and scrubbed."""
        try:
            data = json.loads(self.body)
        except ValueError:
            data = None
        text = data.get("message") if isinstance(data, dict) else None
        text = text if isinstance(text, str) else f"HTTP {self.status}"
        return self.scrub(" ".join(text.split()))[:200]


class Unexpected(Exception):
    """A list could not be read: the page's ``response`` says why (404, 403...)."""

    def __init__(self, response: Response):
        super().__init__(f"HTTP {response.status}")
        self.response = response


def _url_problem(exc: ValidationFailed) -> str:
    if exc.code == "url_not_public":
        return (
            "The GitHub API URL points to a private or reserved address; only public "
            "addresses can be reached (github.com or a GitHub Enterprise Server on the internet)."
        )
    return f"Check the GitHub API URL: {exc.message}"


class GitHubAPI:
    """One run's client: resolve once, authenticate once, then ``get`` and ``paginate``."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        try:
            self._target = net.resolve(base_url or DEFAULT_API_URL)
        except ValidationFailed as exc:
            raise CollectorError(_url_problem(exc)) from None
        self._base_path = self._target.path.split("?", 1)[0].rstrip("/")
        self._timeout = timeout
        self._sleep = sleep
        self._secrets: list[str] = []
        self._authorization = ""
        self._rejected = "GitHub rejected the credentials (401)."
        self._conn: http.client.HTTPConnection | None = None
        self.host = self._target.host
        self.requests = 0
        self.rate_limit: dict[str, str] = {}

    # ---- authentication -------------------------------------------------------------
    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[hidden]")
        return text

    def scrub_bytes(self, data: bytes) -> bytes:
        for secret in self._secrets:
            for form in (secret, json.dumps(secret)[1:-1]):
                data = data.replace(form.encode(), b"[hidden]")
        return data

    def use_token(self, token: str) -> None:
        self._secrets.append(token)
        self._authorization = f"Bearer {token}"
        self._rejected = (
            "GitHub rejected the token (401 Bad credentials): it is wrong, expired or "
            "revoked. Paste a new one."
        )

    def use_app(self, app: AppCredentials) -> str:
        """Sign a JWT as the App, read the App's name, exchange the JWT for an installation
        token and use it from then on. Returns the App's slug."""
        jwt = app_jwt(app)
        self._secrets.append(jwt)
        self._authorization = f"Bearer {jwt}"
        self._rejected = (
            "GitHub rejected the GitHub App's signed request (401): check app_id and that the "
            "private key is the App's current one."
        )
        slug = self.request("GET", "/app").object().get("slug") or ""
        path = f"/app/installations/{app.installation_id}/access_tokens"
        answer = self.request("POST", path, body=b"")
        if answer.status == 404:
            raise CollectorError(
                f"The GitHub App has no installation {app.installation_id} (404): check "
                "installation_id (Settings → GitHub Apps → Configure, the number in the URL)."
            )
        token = answer.object().get("token")
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise CollectorError(
                f"GitHub did not give the App an installation token (HTTP {answer.status}: "
                f"{answer.message})."
            )
        self.use_token(token)
        return str(slug)[:100]

    # ---- requests -------------------------------------------------------------------
    def path(self, path: str, params: dict[str, Any] | None = None) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{self._base_path}{path}{query}"

    def get(self, path: str, params: dict[str, Any] | None = None) -> Response:
        return self.request("GET", self.path(path, params), prefixed=True)

    def paginate(self, path: str, params: dict[str, Any] | None = None, *, limit: int) -> list:
        """Every item of a list, following ``Link: rel="next"``; at most ``limit + 1`` items
        (the caller tells the list was cut). A page that is not 200 raises ``Unexpected``."""
        items: list = []
        url: str | None = self.path(path, {**(params or {}), "per_page": 100})
        for _page in range(MAX_PAGES):
            if url is None or len(items) > limit:
                break
            answer = self.request("GET", url, prefixed=True)
            if answer.status != 200:
                raise Unexpected(answer)
            page = answer.json()
            if not isinstance(page, list):
                raise CollectorError(f"GitHub answered {path} with something that is not a list.")
            items.extend(page)
            url = self._next(answer.headers.get("link", ""))
        return items[: limit + 1]

    def _next(self, link: str) -> str | None:
        found = _NEXT.search(link)
        if not found:
            return None
        parts = urlsplit(found.group(1))
        same = (
            parts.scheme == self._target.scheme
            and (parts.hostname or "").lower() == self._target.host.lower()
            and (parts.port or (443 if parts.scheme == "https" else 80)) == self._target.port
        )
        if not same:
            raise CollectorError("GitHub's next-page link points to another host; stopped there.")
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def request(
        self, method: str, path: str, *, body: bytes | None = None, prefixed: bool = False
    ) -> Response:
        """Send one request (waiting out a secondary rate limit a few times); 401 and an
        exhausted rate limit raise ``CollectorError``, any other status is the caller's."""
        full = path if prefixed else f"{self._base_path}{path}"
        for attempt in range(SECONDARY_RETRIES + 1):
            answer = self._send(method, full, body)
            if answer.status == 401:
                raise CollectorError(self._rejected)
            if answer.status not in (403, 429):
                return answer
            wait = self._rate_limited(answer)
            if wait is None:
                return answer  # a plain "forbidden": the caller says what it could not see
            if attempt == SECONDARY_RETRIES or wait > SECONDARY_MAX_WAIT:
                raise CollectorError(
                    "GitHub's secondary rate limit stopped the run (too many requests in a "
                    f"short time); start it again in {max(1, math.ceil(wait / 60))} min or later."
                )
            logger.info("github %s: secondary rate limit, waiting %s s", self.host, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _rate_limited(self, answer: Response) -> float | None:
        """Seconds to wait before retrying, None when this is not a rate limit; raises when
        the primary limit is used up (waiting could take up to an hour)."""
        headers = answer.headers
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                reset = int(headers.get("x-ratelimit-reset", ""))
            except ValueError:
                reset = int(time.time()) + 3600
            when = dt.datetime.fromtimestamp(reset, tz=dt.UTC)
            minutes = max(1, math.ceil((reset - time.time()) / 60))
            raise CollectorError(
                f"GitHub's API rate limit for these credentials is used up "
                f"({headers.get('x-ratelimit-limit', '?')} requests an hour); it resets at "
                f"{when:%H:%M} UTC (in about {minutes} min). Start the run again after that."
            )
        if "retry-after" in headers:
            try:
                return max(0.0, float(headers["retry-after"]))
            except ValueError:
                return float(SECONDARY_MAX_WAIT)
        if "secondary rate limit" in answer.message.lower():
            return float(SECONDARY_MAX_WAIT)  # GitHub's advice: wait at least a minute
        return None

    def _send(self, method: str, path: str, body: bytes | None) -> Response:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if self._authorization:
            headers["Authorization"] = self._authorization
        if body is not None:
            headers["Content-Type"] = "application/json"
        # A kept-alive connection the server closed meanwhile fails once: reconnect then.
        for attempt in range(2):
            reused = self._conn is not None
            conn = self._conn or net.open_connection(self._target, self._timeout)
            self._conn = conn
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read(MAX_BODY + 1)
            except TimeoutError:
                self.close()
                raise CollectorError(
                    f"GitHub ({self.host}) did not answer within {self._timeout:g} s; "
                    "try again later."
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if reused and attempt == 0:
                    continue
                reason = self.scrub(str(exc) or type(exc).__name__)[:200]
                raise CollectorError(f"Could not reach GitHub at {self.host}: {reason}.") from None
            break
        if len(data) > MAX_BODY:
            self.close()
            raise CollectorError(f"GitHub's answer to {path.split('?')[0]} is too large.")
        if response.will_close:
            self.close()
        self.requests += 1
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
            if name in answer_headers:
                self.rate_limit[name.removeprefix("x-ratelimit-")] = answer_headers[name]
        logger.debug("github %s %s -> %s", method, path.split("?")[0], response.status)
        return Response(response.status, answer_headers, data, path, self.scrub)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
