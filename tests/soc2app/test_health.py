from __future__ import annotations

import pytest

from soc2app.celery import app as celery_app


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_with_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_broker(client, monkeypatch):
    # Nothing listens on port 1: the probe must say so quickly instead of hanging or raising.
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration. The
    # attributes first: reading them finalizes the configuration from the real environment,
    # so what monkeypatch restores afterwards is the real broker (set the variable first and
    # a configuration finalized here keeps port 1 for every later test).
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(celery_app.conf, "broker_write_url", None)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unreachable"},
    }


@pytest.mark.django_db
def test_probes_answer_a_local_plain_http_caller_in_production(client, settings):
    # docker compose's healthcheck (and many load balancers) call by localhost or IP over
    # plain HTTP: ALLOWED_HOSTS and the HTTPS redirect must not answer it 400 or 301
    # without checking anything.
    settings.ALLOWED_HOSTS = ["soc2.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="localhost").status_code == 200
    ready = client.get("/readyz", HTTP_HOST="localhost")
    # Checked, not refused (the broker's answer is test_readyz_with_database_and_broker's).
    assert ready.status_code in (200, 503), ready.content
    assert ready.json()["checks"]["database"] == "ok"
    # Every other address keeps both rules.
    assert client.get("/accounts/login/", HTTP_HOST="localhost").status_code == 400
    redirected = client.get("/accounts/login/", HTTP_HOST="soc2.example.com")
    assert redirected.status_code == 301
