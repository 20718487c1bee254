"""Fixtures of the GitHub collector's tests: the organization "acme" on a local GitHub
(``tests.monitoring.github_server``) and a connection to it."""

from __future__ import annotations

import pytest

from monitoring import services
from monitoring.collectors import collector_for
from monitoring.models import ConnectionKind
from tests.monitoring.github_server import (
    TOKEN,
    FakeGitHub,
    protection,
    repo,
    ruleset_rules,
)


@pytest.fixture
def github_acme(github: FakeGitHub, settings) -> FakeGitHub:
    """Five repositories checked (two pages of two and one), one archived, one fork."""
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the local server is on 127.0.0.1
    github.page_size = 2
    github.repos = [
        repo("api"),  # protected the classic way: everything passes
        repo("web", scanning="disabled", dependabot_updates="disabled"),
        repo("infra"),  # protected by a ruleset only
        repo("legacy", archived=True),
        repo("upstream-fork", fork=True),
        repo("zero-reviews"),  # a PR is required, but no approval
        repo("locked", scanning=None),  # the token is not an admin here
    ]
    github.protection = {
        "acme/api": protection(approvals=1, contexts=("ci/test",)),
        "acme/zero-reviews": protection(approvals=0, contexts=()),
        "acme/upstream-fork": protection(),
    }
    github.rules = {"acme/infra": ruleset_rules(approvals=2, contexts=("build",))}
    github.alerts = {"acme/api", "acme/infra", "acme/zero-reviews", "acme/upstream-fork"}
    github.forbidden = {
        "/repos/acme/locked/branches/main/protection": "Resource not accessible by personal access token",
        "/repos/acme/locked/vulnerability-alerts": "Resource not accessible by personal access token",
    }
    github.outside = ["contractor-a", "contractor-b", "contractor-c"]
    return github


@pytest.fixture
def gh_connection(org, admin, github_acme):
    return services.connection_create(
        membership=admin,
        kind=ConnectionKind.GITHUB,
        name="GitHub acme",
        credentials=TOKEN,
        config={"organization": "acme", "api_url": github_acme.url},
    )


def collect(connection):
    progress: list[str] = []
    collected = collector_for("github").collect(connection, progress.append)
    return collected, progress


def by_check(collected) -> dict[str, dict[str, tuple[str, dict]]]:
    return {
        spec.key: {r.resource: (r.status, r.details) for r in results}
        for spec, results in collected.batch
    }


def statuses(collected) -> dict[str, dict[str, str]]:
    return {k: {r: s for r, (s, _d) in v.items()} for k, v in by_check(collected).items()}
