"""docker-compose.yml and .env.example agree: a setting .env.example offers is taken from
``.env``. Compose's ``environment:`` wins over ``env_file:``, so a value written there as a
literal would silently ignore what the operator set (TRUSTED_PROXY_COUNT=2 behind a load
balancer, say)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _offered() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def test_every_setting_offered_in_env_example_can_be_set_from_dot_env():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    offered = _offered()
    literal = [
        f"{name}: {key}={value}"
        for name, service in compose["services"].items()
        if "env_file" in service
        for key, value in (service.get("environment") or {}).items()
        if key in offered and not (isinstance(value, str) and "${" in value)
    ]
    # (A value compose builds from other variables, such as DATABASE_SYSTEM_URL from
    # SYSTEM_DB_PASSWORD, is set from .env too.)
    assert literal == [], "write these as ${NAME:-default} so .env can change them"


def test_the_web_trusts_one_proxy_unless_told_otherwise():
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    assert web["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"


def _example_values() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", text, re.MULTILINE))


def test_env_example_lists_every_variable_compose_requires():
    required = set(
        re.findall(r"\$\{([A-Z][A-Z0-9_]+):\?", (ROOT / "docker-compose.yml").read_text())
    )
    missing = sorted(required - set(_example_values()))
    assert missing == [], "docker compose refuses to start without these: list them"


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY",
        "ACTIVITY_LOG_KEYS",
        "FIELD_ENCRYPTION_KEYS",
        "METRICS_TOKEN",
        "POSTGRES_PASSWORD",
        "APP_DB_PASSWORD",
        "SYSTEM_DB_PASSWORD",
        "S3_SECRET_ACCESS_KEY",
    ],
)
def test_env_example_holds_no_usable_secret(name):
    # A placeholder long enough to pass the checks would run production with a key anyone
    # can read here (a forgeable activity log, a public SECRET_KEY); left empty, docker
    # compose or the settings refuse to start until it is set.
    assert _example_values()[name] == ""
