#!/usr/bin/env bash
# Prowler (the AWS collector's engine) in its own virtualenv, never in the app's: its pinned
# dependencies (boto3, pydantic...) must not touch ours. Idempotent: a marker file names the
# installed version, so a second run returns at once.
#   scripts/prowler-env.sh   -> ~/.local/share/soc2app/prowler-<version>/venv/bin/prowler (the
#                               default PROWLER_BIN: one install per machine and version, shared
#                               by every checkout, so a fresh clone or a CI run reuses it)
#   PROWLER_HOME=/opt/prowler scripts/prowler-env.sh   (docker compose's prowler-env service)
set -euo pipefail
cd "$(dirname "$0")/.."
PROWLER_VERSION=5.46.0
home=${PROWLER_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/soc2app/prowler-$PROWLER_VERSION}
venv="$home/venv"
marker="$venv/.installed-prowler-$PROWLER_VERSION"
if [ -f "$marker" ] && [ -x "$venv/bin/prowler" ]; then
  echo "Prowler $PROWLER_VERSION is installed: $venv/bin/prowler"
  exit 0
fi
# Prowler 5 supports Python 3.9 to 3.12.
python=${PROWLER_PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.10 python3; do
    command -v "$candidate" >/dev/null && { python=$(command -v "$candidate"); break; }
  done
fi
[ -n "$python" ] || { echo "no python3 found (set PROWLER_PYTHON)" >&2; exit 1; }
echo "Installing Prowler $PROWLER_VERSION into $venv (a few minutes) ..."
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --no-input "prowler==$PROWLER_VERSION"
"$venv/bin/prowler" --version >/dev/null
touch "$marker"
echo "Prowler $PROWLER_VERSION is installed: $venv/bin/prowler"
