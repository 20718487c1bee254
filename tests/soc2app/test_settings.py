"""Settings come from the environment; production refuses unsafe values and passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Settings read by a subprocess from the environment it is given: the test run's database and
# broker change nothing here (``backend_free``: CI runs it once, in the PostgreSQL stage).
pytestmark = pytest.mark.backend_free
PROD = {
    "APP_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-production-secret-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "soc2.example.com",
    "DEBUG": "false",
    "ACTIVITY_LOG_KEYS": "aaaaaaaa-activity-log-key-for-the-deploy-check-0123456789",
    # A Fernet key (32 bytes, url-safe base64): production requires one.
    "FIELD_ENCRYPTION_KEYS": "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Only what a deployment would have: none of the test run's own switches.
    full_env = {
        k: v for k, v in os.environ.items() if k not in PROD and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_debug_and_a_missing_secret():
    result = _manage("check", **{**PROD, "DEBUG": "true"})
    assert result.returncode != 0 and "DEBUG must be off" in result.stderr
    result = _manage("check", **{**PROD, "SECRET_KEY": "short"})
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_missing_or_weak_activity_log_key():
    result = _manage("check", **{**PROD, "ACTIVITY_LOG_KEYS": ""})
    assert result.returncode != 0 and "ACTIVITY_LOG_KEYS must be set" in result.stderr
    for weak in ("short-key", f"{PROD['ACTIVITY_LOG_KEYS']},too-short", PROD["SECRET_KEY"]):
        result = _manage("check", **{**PROD, "ACTIVITY_LOG_KEYS": weak})
        assert result.returncode != 0, weak
        assert "every key must be a random value of 32+ characters" in result.stderr
    # A weak key is refused in development too; a missing one there is derived from SECRET_KEY.
    result = _manage("check", ACTIVITY_LOG_KEYS="short-key")
    assert result.returncode != 0 and "ACTIVITY_LOG_KEYS" in result.stderr


def test_malformed_variable_names_itself():
    result = _manage("check", DB_CONN_MAX_AGE="soon")
    assert result.returncode != 0 and "DB_CONN_MAX_AGE must be an integer" in result.stderr
    result = _manage("check", APP_ENV="staging")
    assert result.returncode != 0 and "APP_ENV must be one of" in result.stderr


def _site_url(**env: str) -> str:
    full = {"PORT": "", "SITE_URL": "", **env}
    full = {k: v for k, v in full.items() if v}
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.SITE_URL)", **full
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_e_mail_links_follow_the_port_of_make_run_unless_site_url_is_set(monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("SITE_URL", raising=False)
    assert _site_url() == "http://127.0.0.1:8000"
    assert _site_url(PORT="8123") == "http://127.0.0.1:8123"
    assert (
        _site_url(PORT="8123", SITE_URL="https://soc2.example.com/") == "https://soc2.example.com"
    )


def test_a_short_metrics_token_stops_the_app_at_start():
    refused = _manage("check", METRICS_TOKEN="short-token")
    assert refused.returncode != 0
    assert "METRICS_TOKEN must be at least 24 characters" in refused.stderr
    assert _manage("check", METRICS_TOKEN="m" * 24).returncode == 0


def test_production_refuses_the_sso_file_check_test_hooks():
    """Like WEBHOOK_ALLOW_PRIVATE: pointing the domain file check at another host, or at
    plain http, is for tests only."""
    for hook in ({"SSO_VERIFY_FILE_HOST": "127.0.0.1"}, {"SSO_VERIFY_FILE_SCHEME": "http"}):
        result = _manage("check", **{**PROD, **hook})
        assert result.returncode != 0 and "SSO_VERIFY_FILE_HOST must be empty" in result.stderr
    result = _manage("check", **{**PROD, "WEBHOOK_ALLOW_PRIVATE": "1"})
    assert result.returncode != 0 and "WEBHOOK_ALLOW_PRIVATE must be off" in result.stderr
