#!/usr/bin/env bash
# Schemathesis against the live schema, with an API key, on a throwaway PostgreSQL database.
# Usage: scripts/schemathesis.sh   (DATABASE_URL's server is used; the database is *_st)
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
psql "${base%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
$PY manage.py migrate --no-input -v0
$PY manage.py load_catalog >/dev/null
$PY manage.py seed_demo >/dev/null
KEY=$($PY manage.py create_api_key --org acme --role admin --name schemathesis | tail -1)
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
