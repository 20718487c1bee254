"""The GitHub collector against a local GitHub (``tests.monitoring.github_server``): every
check's pass, fail and error, skipped repositories, pagination, probe, and the results
ingested as findings."""

from __future__ import annotations

import json

import pytest

from monitoring.collectors.github import GitHubCollector
from monitoring.models import Finding, FindingState, RunSource
from monitoring.services import results_ingest
from tenants.activity import Actor
from tenants.context import org_scope
from tests.monitoring.github_fixtures import by_check, collect, statuses
from tests.monitoring.github_server import TOKEN, ruleset_rules

pytestmark = pytest.mark.django_db


def test_each_repository_passes_or_fails_each_check(gh_connection, github_acme):
    collected, progress = collect(gh_connection)

    got = statuses(collected)
    assert got["github.branch_protection"] == {
        "acme/api": "pass",
        "acme/web": "fail",  # no protection at all
        "acme/infra": "pass",  # a ruleset is enough
        "acme/zero-reviews": "pass",
        "acme/locked": "error",  # 403: the check could not tell
    }
    assert got["github.required_reviews"] == {
        "acme/api": "pass",
        "acme/web": "fail",
        "acme/infra": "pass",
        "acme/zero-reviews": "fail",
        "acme/locked": "error",
    }
    assert got["github.status_checks"] == {
        "acme/api": "pass",
        "acme/web": "fail",
        "acme/infra": "pass",
        "acme/zero-reviews": "fail",
        "acme/locked": "error",
    }
    assert got["github.dependabot"] == {
        "acme/api": "pass",
        "acme/web": "fail",
        "acme/infra": "pass",
        "acme/zero-reviews": "pass",
        "acme/locked": "error",
    }
    assert got["github.secret_scanning"] == {
        "acme/api": "pass",
        "acme/web": "fail",
        "acme/infra": "pass",
        "acme/zero-reviews": "pass",
        "acme/locked": "error",  # no security_and_analysis, even on the repository itself
    }
    assert got["github.org_two_factor"] == {"acme": "pass"}
    assert got["github.outside_collaborators"] == {
        "acme/@contractor-a": "fail",
        "acme/@contractor-b": "fail",
        "acme/@contractor-c": "fail",
        "acme": "fail",
    }

    details = by_check(collected)
    assert details["github.branch_protection"]["acme/infra"][1] == {
        "default_branch": "main",
        "protected_by": ["ruleset"],
        "rules": ["deletion", "non_fast_forward", "pull_request", "required_status_checks"],
    }
    assert details["github.required_reviews"]["acme/infra"][1]["required_approvals"] == 2
    assert details["github.status_checks"]["acme/api"][1]["required_checks"] == ["ci/test"]
    assert details["github.dependabot"]["acme/web"][1] == {
        "default_branch": "main",
        "alerts": "disabled",
        "security_updates": "disabled",
    }
    reason = details["github.branch_protection"]["acme/locked"][1]["reason"]
    assert "Resource not accessible by personal access token" in reason
    assert "Administration: read" in reason
    assert any("(5 of 5)" in p for p in progress)

    # Archived repositories and forks are skipped, and the raw output says why.
    raw = json.loads(collected.output.content)
    assert collected.output.name == "github-acme.json"
    assert {r["full_name"] for r in raw["repositories"]} == {
        "acme/api",
        "acme/web",
        "acme/infra",
        "acme/zero-reviews",
        "acme/locked",
    }
    assert raw["skipped"] == [
        {"full_name": "acme/legacy", "reason": "archived"},
        {"full_name": "acme/upstream-fork", "reason": "fork"},
    ]
    assert raw["outside_collaborators"] == ["contractor-a", "contractor-b", "contractor-c"]
    assert raw["organization"]["two_factor_requirement_enabled"] is True


def test_lists_are_read_page_by_page_with_githubs_headers(gh_connection, github_acme):
    collect(gh_connection)

    repo_pages = [p for p in github_acme.paths() if "/repos?" in p]
    # The first page by the org's login, the next ones by the Link header (org id).
    assert repo_pages == [
        "/orgs/acme/repos?type=all&sort=full_name&per_page=100",
        "/organizations/1/repos?per_page=2&page=2",
        "/organizations/1/repos?per_page=2&page=3",
        "/organizations/1/repos?per_page=2&page=4",
    ]
    assert [p for p in github_acme.paths() if "outside_collaborators" in p] == [
        "/orgs/acme/outside_collaborators?per_page=100",
        "/orgs/acme/outside_collaborators?per_page=2&page=2",
    ]
    for request in github_acme.requests:
        assert request["headers"]["Accept"] == "application/vnd.github+json"
        assert request["headers"]["X-GitHub-Api-Version"] == "2022-11-28"
        assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_forks_are_checked_when_asked(gh_connection, github_acme):
    gh_connection.config["forks"] = "check"
    gh_connection.save(update_fields=["config"])

    got = statuses(collect(gh_connection)[0])

    assert got["github.branch_protection"]["acme/upstream-fork"] == "pass"
    assert "acme/legacy" not in got["github.branch_protection"]  # archived: still skipped


@pytest.mark.parametrize(("required", "status"), [(True, "pass"), (False, "fail"), (None, "error")])
def test_organization_two_factor_requirement(gh_connection, github_acme, required, status):
    github_acme.org["two_factor_requirement_enabled"] = required  # null: not an owner's token

    results = by_check(collect(gh_connection)[0])["github.org_two_factor"]

    assert results["acme"][0] == status


def test_no_outside_collaborators_is_a_pass_for_the_organization(gh_connection, github_acme):
    github_acme.outside = []

    got = statuses(collect(gh_connection)[0])

    assert got["github.outside_collaborators"] == {"acme": "pass"}


def test_outside_collaborators_the_token_cannot_list_are_an_error(gh_connection, github_acme):
    github_acme.forbidden["/outside_collaborators"] = "Must have admin rights to Repository."

    results = by_check(collect(gh_connection)[0])["github.outside_collaborators"]

    assert results["acme"][0] == "error"
    assert "Members: read" in results["acme"][1]["reason"]


def test_a_github_enterprise_server_is_reached_under_its_api_path(gh_connection, github_acme):
    github_acme.prefix = "/api/v3"
    gh_connection.config["api_url"] = f"{github_acme.url}/api/v3/"
    gh_connection.save(update_fields=["config"])

    got = statuses(collect(gh_connection)[0])

    assert got["github.branch_protection"]["acme/web"] == "fail"
    assert all(p.startswith("/api/v3/") for p in github_acme.paths())


def test_probe_says_who_is_signed_in_and_what_it_sees(gh_connection, github_acme):
    result = GitHubCollector().probe(gh_connection)

    assert result.ok
    assert result.message == (
        "Signed in as octocat; sees organization Acme Corp (acme) with 7 repositories."
    )


def test_results_ingested_open_findings_for_failing_repositories_and_close_them(
    org, gh_connection, github_acme
):
    collected, _progress = collect(gh_connection)
    with org_scope(org):
        summary = results_ingest(
            organization=org,
            connection=gh_connection,
            batch=collected.batch,
            source=RunSource.SCHEDULED,
            actor=Actor.system("GitHub"),
            output=collected.output,
        )

        open_findings = set(
            Finding.objects.for_org(org)
            .filter(state=FindingState.OPEN)
            .values_list("check_ref__key", "resource_id")
        )
        assert ("github.branch_protection", "acme/web") in open_findings
        assert ("github.secret_scanning", "acme/web") in open_findings
        assert ("github.required_reviews", "acme/zero-reviews") in open_findings
        assert ("github.outside_collaborators", "acme/@contractor-a") in open_findings
        # Passing and undecided (error) repositories open nothing.
        assert not {f for f in open_findings if f[1] in ("acme/api", "acme/infra", "acme/locked")}
        run = summary.run
        assert run.output_size == len(collected.output.content) and run.output_sha256
        assert (run.passed, run.failed, run.errors) == (14, 11, 5)

        # Next day: web is protected by a ruleset, a collaborator left, zero-reviews archived.
        github_acme.rules["acme/web"] = ruleset_rules()
        github_acme.outside = ["contractor-b", "contractor-c"]
        next(r for r in github_acme.repos if r["name"] == "zero-reviews")["archived"] = True
        collected, _progress = collect(gh_connection)
        results_ingest(
            organization=org,
            connection=gh_connection,
            batch=collected.batch,
            source=RunSource.SCHEDULED,
            actor=Actor.system("GitHub"),
        )

        still_open = set(
            Finding.objects.for_org(org)
            .filter(state=FindingState.OPEN)
            .values_list("check_ref__key", "resource_id")
        )
    assert ("github.branch_protection", "acme/web") not in still_open
    assert ("github.required_reviews", "acme/web") not in still_open
    assert ("github.outside_collaborators", "acme/@contractor-a") not in still_open
    assert ("github.outside_collaborators", "acme/@contractor-b") in still_open
    assert ("github.required_reviews", "acme/zero-reviews") not in still_open  # archived
    assert ("github.secret_scanning", "acme/web") in still_open  # still off
    gone = by_check(collected)["github.required_reviews"]["acme/zero-reviews"]
    assert gone[0] == "pass" and "no longer present" in gone[1]["found"]
