"""docker-compose.yml and .env.example agree: a setting .env.example offers is taken from
``.env``. Compose's ``environment:`` wins over ``env_file:``, so a value written there as a
literal would silently ignore what the operator set (TRUSTED_PROXY_COUNT=2 behind a load
balancer, say)."""

from __future__ import annotations

import re
from pathlib import Path

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
        if key in offered and not (isinstance(value, str) and "${" + key in value)
    ]
    assert literal == [], "write these as ${NAME:-default} so .env can change them"


def test_the_web_trusts_one_proxy_unless_told_otherwise():
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]
    assert web["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"
