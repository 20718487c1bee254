"""Where and how the app runs, read first by every settings module: the checkout, development
or production, and the folder of the embedded default's writable state."""

from __future__ import annotations

from pathlib import Path

from soc2app.env import env_choice, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
APP_ENV = env_choice("APP_ENV", "development", ("development", "production"))
PRODUCTION = APP_ENV == "production"

# Writable state of the embedded default (database file, uploads, broker folders).
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
