"""No app imports another app's private names (``from vendors.api.views import _vendor_out``):
what apps share lives in a public module (``vendors.api.output``), so a private helper can
change without breaking another app."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _apps() -> list[Path]:
    return sorted(
        p.parent
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in {"tests", "node_modules"} and not p.parent.name.startswith(".")
    )


def _private_imports_across_apps() -> list[str]:
    found = []
    for app in _apps():
        for path in app.rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                    continue
                if node.module.split(".")[0] == app.name:
                    continue  # within the app: its own business
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        where = f"{path.relative_to(ROOT)}:{node.lineno}"
                        found.append(f"{where} imports {node.module}.{alias.name}")
    return found


def test_the_apps_are_found() -> None:
    names = {app.name for app in _apps()}
    assert {"vendors", "reports", "risks", "tenants"} <= names


def test_no_app_imports_another_apps_private_names() -> None:
    assert _private_imports_across_apps() == []
