"""Content-Security-Policy on every HTML page, no caching of signed-in pages or the API, and
in production: no browsable API, API docs behind sign-in (the schema stays public)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from soc2app.headers import CONTENT_SECURITY_POLICY
from tests.soc2app.test_settings import PROD, ROOT

pytestmark = pytest.mark.django_db

EXPECTED_DIRECTIVES = {
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
}


def test_the_policy_is_strict():
    directives = {d.strip() for d in CONTENT_SECURITY_POLICY.split(";")}
    assert EXPECTED_DIRECTIVES <= directives
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY


def test_every_html_page_has_it(client, org, manager, client_for):
    anonymous = [
        client.get(reverse("account_login")),
        client.get("/no/such/page/"),  # 404 page
        Client(enforce_csrf_checks=True).post(reverse("account_login")),  # CSRF failure, 403
    ]
    member = client_for(manager)
    signed_in = [
        member.get(reverse("org_home", args=[org.slug])),
        member.get(reverse("members", args=[org.slug])),
        member.get(reverse("api_docs")),
    ]
    for response in anonymous + signed_in:
        assert response["Content-Type"].startswith("text/html"), response
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, response


def test_signed_in_pages_and_the_api_are_not_cached(client, org, manager, client_for):
    member = client_for(manager)
    for response in [
        member.get(reverse("org_home", args=[org.slug])),
        member.get(reverse("members", args=[org.slug])),
        member.get(f"/api/v1/orgs/{org.slug}/controls/"),
        client.get("/api/v1/catalog/frameworks/"),  # the API, even without a session
    ]:
        cache_control = {p.strip() for p in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control, response


def test_api_docs_load_their_script_from_a_file(client_for, manager):
    page = client_for(manager).get(reverse("api_docs"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<style" not in html and "<script>" not in html
    script = client_for(manager).get(reverse("api_docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_api_docs_need_sign_in_when_required(settings, client, client_for, manager):
    settings.API_DOCS_LOGIN_REQUIRED = True
    response = client.get(reverse("api_docs"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert client_for(manager).get(reverse("api_docs")).status_code == 200
    # The schema stays public (README: "API").
    assert client.get(reverse("api_schema")).status_code == 200


def test_production_turns_off_the_browsable_api_and_locks_the_docs():
    env = {k: v for k, v in os.environ.items() if k not in PROD}
    env.update(PROD)
    code = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.REST_FRAMEWORK.get('DEFAULT_RENDERER_CLASSES'),"
        " s.API_DOCS_LOGIN_REQUIRED]))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "soc2app.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    renderers, docs_locked = json.loads(result.stdout.strip().splitlines()[-1])
    assert renderers == ["rest_framework.renderers.JSONRenderer"] and docs_locked is True
