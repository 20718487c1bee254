#!/usr/bin/env bash
# The two commands of README.md:  scripts/dev.sh run   |   scripts/dev.sh test
# (`make run` / `make test` call them.) Everything else they need, they set up themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=.venv
STAMP=$VENV/.installed

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "Creating virtual environment in $VENV ($($PYTHON --version))"
    "$PYTHON" -m venv "$VENV"
  fi
  if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    log "Installing pinned dependencies"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet ".[dev]"
    touch "$STAMP"
  fi
}

# Browser tests drive Debian's chromium; install it when we may (root or password-less sudo).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || { log "chromium is not installed: browser tests will be skipped"; return 0; }
    sudo="sudo -n"
  fi
  command -v apt-get >/dev/null || return 0
  log "Installing chromium for the browser tests"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null \
    || log "could not install chromium: browser tests will be skipped"
}

# System libraries the app needs: libmagic (upload type sniffing), Pango (WeasyPrint PDFs),
# libxmlsec1 (SAML single sign-on).
ensure_system_libs() {
  local missing=()
  ldconfig -p 2>/dev/null | grep -q libmagic.so.1 || missing+=(libmagic1)
  ldconfig -p 2>/dev/null | grep -q libpango-1.0.so.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
  # Single sign-on's SAML: xmlsec (python3-saml) links libxmlsec1; building it needs pkg-config.
  ldconfig -p 2>/dev/null | grep -q libxmlsec1-openssl.so || missing+=(libxmlsec1-dev libxmlsec1-openssl xmlsec1 pkg-config)
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || { log "Missing system packages: ${missing[*]} (sudo apt-get install ${missing[*]})"; return 0; }
    sudo="sudo -n"
  fi
  log "Installing ${missing[*]}"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
    || log "could not install ${missing[*]}"
}

manage() { "$VENV/bin/python" manage.py "$@"; }

WORKER_PID=""
stop_worker() {
  if [ -n "$WORKER_PID" ]; then
    kill "$WORKER_PID" 2>/dev/null || true
    wait "$WORKER_PID" 2>/dev/null || true
    WORKER_PID=""
  fi
}

cmd_run() {
  ensure_system_libs
  ensure_venv
  mkdir -p var/log
  # Set-up steps log only what needs attention; the server itself logs each request.
  log "Migrating the database (${DATABASE_URL:-SQLite file var/db.sqlite3})"
  LOG_LEVEL=${LOG_LEVEL:-WARNING} manage migrate --no-input -v0
  if manage help load_catalog >/dev/null 2>&1; then
    log "Loading the Trust Services Criteria catalog"
    LOG_LEVEL=${LOG_LEVEL:-WARNING} manage load_catalog
  fi
  log "Seeding the demo organization"
  local seed; seed=$(LOG_LEVEL=${LOG_LEVEL:-WARNING} manage seed_demo)
  log "Starting the Celery worker with beat (log: var/log/celery.log)"
  "$VENV/bin/celery" -A soc2app worker -B --pool=solo --loglevel=INFO \
    --schedule var/celerybeat-schedule >var/log/celery.log 2>&1 &
  WORKER_PID=$!
  # Ctrl-C stops the server (it gets the signal too), then the worker; a clean exit for make.
  trap 'stop_worker; printf "\nStopped.\n"; exit 0' INT TERM
  trap 'stop_worker' EXIT
  local port=${PORT:-8000}
  cat <<MSG

  SOC 2 Readiness is starting at  http://127.0.0.1:$port/
  Sign in with one of the demo logins:
$seed

  Stop with Ctrl-C.
MSG
  # The development server's production warning: README's "Deploying" says what to run instead.
  DJANGO_RUNSERVER_HIDE_WARNING=true manage runserver "127.0.0.1:$port" || true
}

cmd_test() {
  ensure_system_libs
  ensure_venv
  ensure_chromium
  log "Running the test suite against ${DATABASE_URL:-SQLite} / broker ${CELERY_BROKER_URL:-filesystem}"
  "$VENV/bin/python" -m pytest "$@"
}

# Benchmarks: PostgreSQL by default (the figures that matter), in a throwaway database.
cmd_bench() {
  ensure_venv
  export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/soc2app}
  log "Benchmarks against ${DATABASE_URL%%@*}@… (a throwaway test database)"
  manage bench "$@"
}

cmd_lint() {
  ensure_venv
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  lint) shift; cmd_lint "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  *) echo "usage: scripts/dev.sh run|test|lint|bench [args]" >&2; exit 2 ;;
esac
