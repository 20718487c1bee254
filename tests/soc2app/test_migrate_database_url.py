"""``MIGRATE_DATABASE_URL``: the schema commands connect as the owner role, everything else as
the application's role (``DATABASE_URL``). Two SQLite files stand in for the two roles: the
file a command creates shows which URL it connected with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Its own SQLite files, whatever the test run's database (``backend_free``: CI runs it once).
pytestmark = pytest.mark.backend_free


def _manage(tmp_path: Path, *args: str, migrate_url: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MIGRATE_DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite3'}", VAR_DIR=str(tmp_path))
    if migrate_url:
        env["MIGRATE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'owner.sqlite3'}"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _created(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.glob("*.sqlite3"))


def test_migrate_connects_with_the_owner_url(tmp_path):
    _manage(tmp_path, "migrate", "--plan")
    assert _created(tmp_path) == ["owner.sqlite3"]


@pytest.mark.parametrize("command", [["showmigrations"], ["check", "--database", "default"]])
def test_other_commands_keep_the_application_url(tmp_path, command):
    _manage(tmp_path, *command)
    assert _created(tmp_path) == ["app.sqlite3"]


def test_without_it_migrate_uses_database_url(tmp_path):
    _manage(tmp_path, "migrate", "--plan", migrate_url=False)
    assert _created(tmp_path) == ["app.sqlite3"]
