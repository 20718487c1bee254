"""The GitHub collector's bad input and safety, against a local GitHub: GitHub App
credentials (the server checks the JWT's signature), rate limits, rejected or unknown
credentials, unreachable or private hosts, and the token kept out of every output."""

from __future__ import annotations

import json
import logging

import pytest

from monitoring.collectors import CollectorError, collector_for
from monitoring.collectors.github_api import GitHubAPI
from tests.monitoring.github_fixtures import collect, statuses
from tests.monitoring.github_server import INSTALLATION_TOKEN, TOKEN, app_key

pytestmark = pytest.mark.django_db


def probe(connection):
    return collector_for("github").probe(connection)


def use(connection, *, credentials=None, **config):
    if credentials is not None:
        connection.credentials = credentials
    connection.config = {**connection.config, **config}
    connection.save()
    return connection


@pytest.fixture
def app(github_acme):
    """GitHub App credentials whose public key the local GitHub knows."""
    pem, public_key = app_key()
    github_acme.app_public_key = public_key
    return {"app_id": github_acme.app_id, "installation_id": 77, "private_key": pem}


def test_github_app_credentials_are_exchanged_for_an_installation_token(
    gh_connection, github_acme, app
):
    use(gh_connection, credentials=json.dumps(app))

    assert probe(gh_connection).message == (
        "Signed in as the GitHub App soc2-checker; sees organization Acme Corp (acme) with 7 "
        "repositories."
    )
    github_acme.requests.clear()
    collected, _progress = collect(gh_connection)

    assert statuses(collected)["github.branch_protection"]["acme/web"] == "fail"
    first, exchange, *rest = github_acme.requests
    assert (first["method"], first["path"]) == ("GET", "/app")
    assert (exchange["method"], exchange["path"]) == ("POST", "/app/installations/77/access_tokens")
    assert all(r["headers"]["Authorization"] == f"Bearer {INSTALLATION_TOKEN}" for r in rest)
    raw = collected.output.content.decode()
    assert "the GitHub App soc2-checker" in raw
    assert INSTALLATION_TOKEN not in raw and "BEGIN" not in raw


def test_github_app_with_another_key_is_refused_plainly(gh_connection, github_acme, app):
    other_pem, _public = app_key()
    use(gh_connection, credentials=json.dumps({**app, "private_key": other_pem}))

    result = probe(gh_connection)

    assert not result.ok
    assert "rejected the GitHub App's signed request (401)" in result.message
    assert github_acme.paths() == ["/app"]  # nothing else was tried


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ("", "Paste a GitHub token or GitHub App credentials first."),
        ("two words", "does not look like a GitHub token"),
        ('{"app_id": 1', "not valid JSON"),
        ('{"app_id": 1, "installation_id": "x", "private_key": "k"}', "installation_id"),
        ('{"app_id": 1, "installation_id": 2, "private_key": "nope"}', "not a readable PEM"),
    ],
)
def test_credentials_that_cannot_work_say_why(gh_connection, github_acme, credentials, message):
    use(gh_connection, credentials=credentials)

    result = probe(gh_connection)

    assert not result.ok and message in result.message
    with pytest.raises(CollectorError, match=message.split(" (")[0][:20]):
        collect(gh_connection)
    assert github_acme.requests == []


def test_an_unknown_installation_says_so(gh_connection, github_acme, app):
    use(gh_connection, credentials=json.dumps({**app, "installation_id": 5}))

    assert "no installation 5 (404)" in probe(gh_connection).message


def test_a_rejected_token_is_a_clear_failure(gh_connection, github_acme):
    use(gh_connection, credentials="ghp_expired0000000000000000000000000000")

    result = probe(gh_connection)

    assert not result.ok
    assert result.message.startswith("GitHub rejected the token (401 Bad credentials)")
    with pytest.raises(CollectorError, match="rejected the token"):
        collect(gh_connection)


def test_an_organization_github_does_not_know_is_a_clear_failure(gh_connection, github_acme):
    use(gh_connection, organization="nope")

    result = probe(gh_connection)

    assert not result.ok
    assert "no organization 'nope' that these credentials can see (404)" in result.message


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"organization": ""}, "Give the GitHub organization's login"),
        ({"organization": "a b"}, "Give the GitHub organization's login"),
        ({"api_url": "ftp://github.example"}, "Use an http:// or https:// URL."),
        ({"api_url": "https://no-such-host.invalid"}, "could not be resolved"),
    ],
)
def test_settings_that_cannot_work_say_why(gh_connection, github_acme, config, message):
    use(gh_connection, **config)

    result = probe(gh_connection)

    assert not result.ok and message in result.message


def test_a_used_up_rate_limit_stops_the_run_saying_when_it_resets(gh_connection, github_acme):
    github_acme.rate_limited = True

    with pytest.raises(CollectorError) as err:
        collect(gh_connection)

    message = str(err.value)
    assert "rate limit for these credentials is used up (5000 requests an hour)" in message
    assert "UTC (in about 30 min)" in message
    assert len(github_acme.requests) == 1  # no retry storm


def test_a_secondary_rate_limit_is_waited_out(gh_connection, github_acme):
    github_acme.secondary_limits = 2  # retry-after: 0

    collected, _progress = collect(gh_connection)

    assert github_acme.paths()[:3] == ["/orgs/acme"] * 3
    assert statuses(collected)["github.branch_protection"]["acme/api"] == "pass"


def test_a_secondary_rate_limit_that_does_not_lift_stops_the_run(gh_connection, github_acme):
    github_acme.secondary_limits = 100

    with pytest.raises(CollectorError, match="secondary rate limit stopped the run"):
        collect(gh_connection)
    assert len(github_acme.requests) == 4


def test_a_private_address_is_refused_before_anything_is_sent(gh_connection, github_acme, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False

    result = probe(gh_connection)

    assert not result.ok
    assert "private or reserved address" in result.message
    with pytest.raises(CollectorError, match="private or reserved address"):
        collect(gh_connection)
    assert github_acme.requests == []


def test_a_server_that_does_not_answer_in_time_is_a_clear_failure(github_acme):
    github_acme.delay = 1.0
    api = GitHubAPI(github_acme.url, timeout=0.2)
    api.use_token(TOKEN)

    with pytest.raises(CollectorError, match=r"did not answer within 0\.2 s"):
        api.get("/orgs/acme")


def test_the_token_never_reaches_logs_errors_details_or_the_raw_output(
    gh_connection, github_acme, caplog
):
    caplog.set_level(logging.DEBUG)
    github_acme.echo_token = True  # a hostile server repeats the Authorization header
    github_acme.org["name"] = f"Acme {TOKEN}"

    collected, _progress = collect(gh_connection)
    result = probe(gh_connection)
    use(gh_connection, credentials=TOKEN + "x")
    with pytest.raises(CollectorError) as err:
        collect(gh_connection)

    details = json.dumps([[r.details for r in results] for _spec, results in collected.batch])
    assert "[hidden]" in details  # the echoed header, scrubbed
    assert "[hidden]" in result.message and result.ok
    for text in (details, collected.output.content.decode(), result.message, str(err.value)):
        assert TOKEN not in text
    assert TOKEN not in caplog.text
    assert any("github GET /orgs/acme" in r.getMessage() for r in caplog.records)


def test_answers_not_in_githubs_shape_fail_the_run_or_the_check_plainly(gh_connection, github_acme):
    github_acme.protection["acme/web"] = {
        "required_pull_request_reviews": "yes",
        "required_status_checks": [1],
        "enforce_admins": None,
    }
    github_acme.rules["acme/web"] = [{"type": "pull_request", "parameters": "two"}, "rule"]

    got = statuses(collect(gh_connection)[0])

    assert got["github.branch_protection"]["acme/web"] == "pass"  # a rule exists
    assert got["github.required_reviews"]["acme/web"] == "fail"  # no count GitHub documents

    github_acme.html = {"/rules/branches/main"}
    with pytest.raises(CollectorError, match="with something that is not JSON"):
        collect(gh_connection)
