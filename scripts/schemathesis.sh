#!/usr/bin/env bash
# Schemathesis against the live schema, with an API key, on a throwaway PostgreSQL database.
# Usage: scripts/schemathesis.sh [prepare|run]   (DATABASE_URL's server is used; the database
# is *_st). With no argument, both: `prepare` makes the database (migrated, catalog, demo data)
# and an API key, `run` starts the server on it and runs schemathesis; CI prepares while the
# browser tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/soc2app}
# Named after DATABASE_URL's database (soc2app -> soc2app_st), so runs against one server with
# different databases do not drop each other's.
name=${base##*/}
export DATABASE_URL="${base%/*}/${name%%\?*}_st"
export API_KEY_RATE=${API_KEY_RATE:-100000/minute}
# Tasks run inside the request: POST .../reports/ renders the PDF before it answers (13.6 s seen
# on a loaded 2-core machine), hence the request timeout below, longer than schemathesis's 10 s.
export CELERY_TASK_ALWAYS_EAGER=1
PORT=${ST_PORT:-8765}
PY=.venv/bin/python
mkdir -p var/log
db=${DATABASE_URL##*/}
key_file=var/schemathesis-$db.key
step=${1:-all}
case "$step" in all|prepare|run) ;; *) echo "usage: $0 [prepare|run]" >&2; exit 2 ;; esac
if [ "$step" != run ]; then
  rm -f "$key_file"
  psql "${base%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
  $PY manage.py migrate --no-input -v0
  $PY manage.py load_catalog >/dev/null
  $PY manage.py seed_demo >/dev/null
  (umask 077 && $PY manage.py create_api_key --org acme --role admin --name schemathesis \
    | tail -1 >"$key_file")
  [ "$step" = prepare ] && exit 0
fi
[ -s "$key_file" ] || { echo "$key_file is missing: run $0 prepare first" >&2; exit 1; }
KEY=$(cat "$key_file")
$PY manage.py runserver "127.0.0.1:$PORT" --noreload >var/log/schemathesis-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done
.venv/bin/st run "http://127.0.0.1:$PORT/api/schema/?format=json" \
  --url "http://127.0.0.1:$PORT" \
  -H "Authorization: Bearer $KEY" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${ST_MAX_EXAMPLES:-15}" \
  --max-time "${ST_MAX_TIME:-200}" \
  --request-timeout "${ST_REQUEST_TIMEOUT:-60}" \
  --seed 2026 \
  --no-color
