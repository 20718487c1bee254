"""Log lines carry the request id (the caller's ``X-Request-ID`` or a new one, echoed in the
response), the organization id and the user id; ``LOG_FORMAT=json`` writes them as JSON; and
no secret (an Authorization header, a password) ever reaches the log."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings

from soc2app.logs import ContextFilter, JsonFormatter
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Every log record, formatted as in production with LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_request_s_log_lines_carry_its_ids(client_for, lines):
    membership = MembershipFactory()
    client = client_for(membership)
    response = client.get(
        f"/o/{membership.organization.slug}/reports/audits/987654/", HTTP_X_REQUEST_ID="req-42.a"
    )
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-42.a"
    (line,) = [r for r in _records(lines) if r["message"].startswith("Not Found")]
    assert line["request_id"] == "req-42.a"
    assert line["org_id"] == membership.organization_id
    assert line["user_id"] == membership.user_id
    assert line["level"] == "WARNING" and line["logger"] == "django.request"


def test_a_request_id_is_made_when_missing_or_malformed(client):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz")["X-Request-ID"]
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID='<script>"x')["X-Request-ID"]
    assert len(replaced) == 32 and "<" not in replaced


def test_secrets_never_reach_the_log(client, lines, caplog):
    secret_key = "sk_live_never_log_me_0123456789abcdef"
    password = "correct horse battery staple 42"  # noqa: S105
    caplog.set_level(logging.DEBUG)  # everything any logger writes, SQL included
    response = client.get("/api/v1/orgs/acme/controls/", HTTP_AUTHORIZATION=f"Bearer {secret_key}")
    assert response.status_code in (401, 403)
    client.post("/accounts/login/", {"login": "someone@example.com", "password": password})
    text = lines.getvalue()
    assert text  # something was logged (the refused API call at least)
    assert secret_key not in text and password not in text
    assert all(r["request_id"] for r in _records(lines) if r["logger"] == "django.request")


def test_log_format_json_is_what_the_process_writes(tmp_path):
    env = {
        **os.environ,
        "LOG_FORMAT": "json",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "soc2app.settings",
    }
    code = "import logging; logging.getLogger('soc2app.check').warning('hello %s', 'there')"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = [json.loads(x) for x in result.stderr.splitlines() if "soc2app.check" in x]
    assert line["message"] == "hello there" and line["level"] == "WARNING"
    assert {"request_id", "org_id", "user_id", "time"} <= set(line)
