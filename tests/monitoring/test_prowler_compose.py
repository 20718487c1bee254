"""Deployments install Prowler with docker compose's prowler-env service (profile ``aws``: not
part of the two-command start) into a volume the worker mounts read-only; docker cannot run
here, so the file's declarations are what is tested."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_prowler_env_installs_with_the_script_into_its_volume_on_the_apps_base_image():
    service = _compose()["services"]["prowler-env"]
    assert service["profiles"] == ["aws"]
    assert service["command"] == ["bash", "/src/scripts/prowler-env.sh"]
    assert "./scripts/prowler-env.sh:/src/scripts/prowler-env.sh:ro" in service["volumes"]
    assert "prowler:/opt/prowler" in service["volumes"]
    assert service["environment"]["PROWLER_HOME"] == "/opt/prowler"
    # The venv's interpreter path must exist in the worker: same Python image.
    base = re.search(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE).group(1)
    assert service["image"] == base


def test_the_worker_runs_that_prowler_read_only():
    compose = _compose()
    worker = compose["services"]["worker"]
    assert "prowler:/opt/prowler:ro" in worker["volumes"]
    assert worker["environment"]["PROWLER_BIN"] == "${PROWLER_BIN:-/opt/prowler/venv/bin/prowler}"
    assert "prowler" in compose["volumes"]
    assert "prowler-env" not in worker.get("depends_on", {})


def test_the_script_pins_prowler_and_installs_into_its_own_venv():
    script = (ROOT / "scripts" / "prowler-env.sh").read_text()
    assert re.search(r"^PROWLER_VERSION=5\.\d+\.\d+$", script, re.MULTILINE)
    assert '"$venv/bin/pip" install' in script and "prowler==$PROWLER_VERSION" in script
    assert ".venv" not in script.replace("$venv", "")
