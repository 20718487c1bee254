"""The GitHub organization collector: change management and access checks of one
organization's repositories and settings, through GitHub's REST API (github.com or a GitHub
Enterprise Server).

A run reads the organization (``GET /orgs/{org}``: its two-factor requirement), its outside
collaborators, and every repository (``GET /orgs/{org}/repos``; archived repositories are
skipped, forks too unless ``forks`` is "check"); per repository, the default branch's
protection and the ruleset rules that apply to it, whether Dependabot alerts are on and its
security settings (secret scanning). The checks and their criteria are in
``monitoring.collectors.github_checks``; the HTTP client, its SSRF guard and its handling of
rate limits and credentials in ``monitoring.collectors.github_api``.

A resource that had an open finding and is no longer seen (a repository archived, deleted or
skipped; an outside collaborator removed) gets a ``pass`` saying so, which closes the finding.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from monitoring.collectors import (
    Collected,
    CollectorError,
    ConfigField,
    Probe,
    Progress,
    RawOutput,
)
from monitoring.collectors import github_checks as checks
from monitoring.collectors.github_api import (
    DEFAULT_API_URL,
    AppCredentials,
    GitHubAPI,
    Unexpected,
    parse_credentials,
)
from monitoring.specs import MAX_RESULTS, CheckSpec, ResultSpec, clean_check, clean_results
from soc2app.errors import ValidationFailed

if TYPE_CHECKING:
    from monitoring.models import Connection

logger = logging.getLogger(__name__)
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
# One result per repository and check: at most this many repositories are checked (by name).
MAX_REPOSITORIES = MAX_RESULTS - 100


@dataclass(frozen=True)
class Settings:
    organization: str
    api_url: str
    forks: bool


def settings_for(config: dict[str, Any] | None) -> Settings:
    config = config if isinstance(config, dict) else {}
    org = str(config.get("organization") or "").strip()
    if not _LOGIN.fullmatch(org):
        raise CollectorError(
            "Give the GitHub organization's login (letters, digits and hyphens, as in "
            "github.com/<login>)."
        )
    api_url = str(config.get("api_url") or DEFAULT_API_URL).strip().rstrip("/")
    return Settings(org, api_url, str(config.get("forks") or "skip") == "check")


def open_api(connection: Connection, settings: Settings) -> tuple[GitHubAPI, str]:
    """A client signed in with the connection's credentials, and who it is signed in as
    (a user's login for a token, the App for App credentials)."""
    secret = connection.credentials.reveal() if connection.credentials else ""
    credentials = parse_credentials(secret)
    api = GitHubAPI(settings.api_url)
    if isinstance(credentials, AppCredentials):
        slug = api.use_app(credentials)
        return api, f"the GitHub App {slug or credentials.app_id}"
    api.use_token(credentials.token)
    return api, ""


def _organization(api: GitHubAPI, org: str) -> dict[str, Any]:
    answer = api.get(f"/orgs/{org}")
    if answer.status == 404:
        raise CollectorError(
            f"GitHub has no organization {org!r} that these credentials can see (404): check "
            "the login, and that the token (or the App's installation) covers it."
        )
    data = answer.json() if answer.status == 200 else None
    if not isinstance(data, dict):
        raise CollectorError(
            f"GitHub did not show the organization {org!r} (HTTP {answer.status}: "
            f"{answer.message})."
        )
    return data


def _repositories(api: GitHubAPI, org: str) -> list[dict[str, Any]]:
    try:
        repos = api.paginate(
            f"/orgs/{org}/repos", {"type": "all", "sort": "full_name"}, limit=20_000
        )
    except Unexpected as exc:
        raise CollectorError(
            f"GitHub did not list the organization's repositories (HTTP "
            f"{exc.response.status}: {exc.response.message})."
        ) from None
    # Pages are offsets: a repository created while listing can show up twice.
    unique = {
        r["full_name"]: r
        for r in repos
        if isinstance(r, dict) and isinstance(r.get("full_name"), str)
    }
    return list(unique.values())


def _two_factor(org: str, data: dict[str, Any]) -> ResultSpec:
    required = data.get("two_factor_requirement_enabled")
    if required is None:
        return ResultSpec(
            resource=org,
            resource_name=org,
            status="error",
            details={
                "reason": "GitHub shows the two-factor requirement only to organization owners "
                "(token of an owner; fine-grained: organization Administration: read)"
            },
        )
    return ResultSpec(
        resource=org,
        resource_name=org,
        status="pass" if required else "fail",
        details={"two_factor_requirement_enabled": bool(required)},
    )


def _collaborators(api: GitHubAPI, org: str) -> tuple[list[ResultSpec], list[str] | None]:
    """A fail per outside collaborator, and the organization's own result (pass when none)."""
    try:
        users = api.paginate(f"/orgs/{org}/outside_collaborators", limit=MAX_REPOSITORIES)
    except Unexpected as exc:
        reason = f"the credentials cannot list outside collaborators ({exc.response.message}); a token needs organization Members: read"
        return [ResultSpec(org, "error", org, {"reason": reason})], None
    logins = sorted({str(u.get("login")) for u in users if isinstance(u, dict) and u.get("login")})
    results = [
        ResultSpec(
            resource=f"{org}/@{login}",
            resource_name=f"{login} (outside collaborator)",
            status="fail",
            details={"login": login, "found": "outside collaborator of the organization"},
        )
        for login in logins[:MAX_REPOSITORIES]
    ]
    results.append(
        ResultSpec(
            resource=org,
            resource_name=org,
            status="fail" if logins else "pass",
            details={"outside_collaborators": len(logins), "logins": logins[:20]},
        )
    )
    return results, logins


def _gone(connection: Connection, batch: dict[str, list[ResultSpec]]) -> None:
    """Close what is no longer there: a ``pass`` for every open finding of these checks whose
    resource this run did not see. One query."""
    from monitoring.models import Finding, FindingState

    seen = {key: {r.resource for r in results} for key, results in batch.items()}
    open_findings = (
        Finding.objects.for_org(connection.organization)
        .filter(check_ref__connection=connection, state=FindingState.OPEN)
        .filter(check_ref__key__in=list(batch))
        .values_list("check_ref__key", "resource_id", "resource_name")
    )
    for key, resource, name in open_findings:
        if resource not in seen[key] and len(batch[key]) < MAX_RESULTS:
            batch[key].append(
                ResultSpec(
                    resource=resource,
                    resource_name=name,
                    status="pass",
                    details={"found": "no longer present (archived, deleted, skipped or removed)"},
                )
            )


class GitHubCollector:
    config_fields = (
        ConfigField(
            name="organization",
            label="Organization",
            help="The organization's login, as in github.com/<login>.",
            required=True,
        ),
        ConfigField(
            name="api_url",
            label="API URL",
            help="https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server.",
            default=DEFAULT_API_URL,
        ),
        ConfigField(
            name="forks",
            label="Forks",
            help="Skip forked repositories (default) or check them like the others.",
            choices=("skip", "check"),
            default="skip",
        ),
    )
    credentials_help = (
        "A read-only token (fine-grained: repository Administration and Metadata read, "
        "organization Administration and Members read; or a classic token with repo and "
        'read:org), or GitHub App credentials as JSON: {"app_id": ..., "installation_id": '
        '..., "private_key": "-----BEGIN RSA PRIVATE KEY-----..."}.'
    )

    def probe(self, connection: Connection) -> Probe:
        """Sign in, read the organization and count the repositories the credentials see."""
        try:
            settings = settings_for(connection.config)
            api, who = open_api(connection, settings)
            try:
                if not who:
                    login = api.get("/user").object().get("login")
                    who = str(login) if login else "a token without a user (GET /user refused)"
                org = _organization(api, settings.organization)
                count = self._count_repositories(api, settings.organization)
                name = str(org.get("name") or settings.organization)[:100]
                label = (
                    name if name == settings.organization else f"{name} ({settings.organization})"
                )
                message = api.scrub(
                    f"Signed in as {who[:100]}; sees organization {label} with {count} "
                    f"repositor{'y' if count == 1 else 'ies'}."
                )
            finally:
                api.close()
        except CollectorError as exc:
            return Probe(ok=False, message=str(exc))
        return Probe(ok=True, message=message)

    @staticmethod
    def _count_repositories(api: GitHubAPI, org: str) -> int:
        """One request: a page of one repository; its ``rel="last"`` link's page is the count."""
        answer = api.get(f"/orgs/{org}/repos", {"type": "all", "per_page": 1})
        if answer.status != 200:
            raise CollectorError(
                f"GitHub did not list the organization's repositories (HTTP {answer.status}: "
                f"{answer.message})."
            )
        last = re.search(r'[?&]page=(\d+)[^>]*>\s*;\s*rel="?last"?', answer.headers.get("link", ""))
        page = answer.json()
        return int(last.group(1)) if last else len(page if isinstance(page, list) else [])

    def collect(self, connection: Connection, progress: Progress) -> Collected:
        settings = settings_for(connection.config)
        api, who = open_api(connection, settings)
        try:
            return self._collect(connection, settings, api, who, progress)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # JSON that is not in GitHub's documented shape (a proxy's page, another API).
            logger.warning("github collector: unexpected answer shape (%s)", type(exc).__name__)
            raise CollectorError(
                f"GitHub's answers at {api.host} are not in the shape GitHub documents; "
                "check the API URL."
            ) from None
        finally:
            api.close()

    def _collect(
        self,
        connection: Connection,
        settings: Settings,
        api: GitHubAPI,
        who: str,
        progress: Progress,
    ) -> Collected:
        org = settings.organization
        progress(f"Reading the organization {org}")
        org_data = _organization(api, org)
        progress(f"Listing the repositories of {org}")
        repos = _repositories(api, org)
        skipped = {
            r["full_name"]: "archived" if r.get("archived") else "fork"
            for r in repos
            if r.get("archived") or (r.get("fork") and not settings.forks)
        }
        chosen = sorted(
            (r for r in repos if r["full_name"] not in skipped), key=lambda r: r["full_name"]
        )
        cut = chosen[MAX_REPOSITORIES:]
        chosen = chosen[:MAX_REPOSITORIES]
        batch: dict[str, list[ResultSpec]] = {c.key: [] for c in checks.CHECKS}
        summaries = []
        for i, repo in enumerate(chosen, 1):
            progress(f"Checking {repo['full_name']} ({i} of {len(chosen)})")
            facts = checks.repo_facts(api, repo)
            summaries.append(facts.summary())
            for key, result in checks.repo_results(facts).items():
                batch[key].append(result)
        progress("Checking the organization's settings and outside collaborators")
        batch[checks.ORG_TWO_FACTOR.key].append(_two_factor(org, org_data))
        collaborator_results, logins = _collaborators(api, org)
        batch[checks.OUTSIDE_COLLABORATORS.key].extend(collaborator_results)
        _gone(connection, batch)
        raw = {
            "source": "github",
            "api_url": settings.api_url,
            "fetched_at": timezone.now().isoformat(),
            "signed_in_as": who or "token",
            "organization": {
                k: org_data.get(k)
                for k in ("login", "name", "two_factor_requirement_enabled", "plan")
                if k in org_data
            },
            "repositories": summaries,
            "skipped": [{"full_name": n, "reason": why} for n, why in sorted(skipped.items())]
            + [{"full_name": r["full_name"], "reason": "over the limit"} for r in cut],
            "outside_collaborators": logins,
            "requests": api.requests,
            "rate_limit": api.rate_limit,
        }
        content = json.dumps(raw, indent=1, sort_keys=True, default=str).encode()
        return Collected(
            batch=_clean(batch),
            output=RawOutput(content=api.scrub_bytes(content), name=f"github-{org}.json"),
        )


def _clean(batch: dict[str, list[ResultSpec]]) -> list[tuple[CheckSpec, list[ResultSpec]]]:
    """The batch as ``results_ingest`` takes it (checks without results left out)."""
    specs: dict[str, CheckSpec] = {c.key: c for c in checks.CHECKS}
    try:
        return [
            (clean_check(specs[key]), clean_results(results))
            for key, results in batch.items()
            if results
        ]
    except ValidationFailed as exc:
        raise CollectorError(f"GitHub's answers could not be recorded: {exc.message}") from None
