"""A webhook delivered by a real Celery worker (Redis broker, PostgreSQL, its own process):
``webhooks_emit`` enqueues on commit, the task is registered in the worker
(``CELERY_IMPORTS``), loads the delivery by id, signs and
sends it to a real receiver, and records the outcome."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from soc2app.celery import app as celery_app
from tenants.models import DeliveryStatus, WebhookDelivery
from tenants.webhooks.services import webhook_endpoint_create, webhooks_emit
from tests.tenants.test_webhooks import receiver, verify  # noqa: F401 (the receiver fixture)


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    queue = f"test-webhooks-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "soc2app.settings",
    }
    log = (tmp_path / "worker.log").open("w")
    command = [
        sys.executable, "-m", "celery", "-A", "soc2app", "worker", "--pool=solo",
        "--queues", queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel", "INFO", "--hostname", f"{queue}@%h",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=Path(settings.BASE_DIR), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    # The tasks webhooks_emit enqueues on commit go to this worker's queue.
    default_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        celery_app.conf.task_default_queue = default_queue
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_a_signed_event(org, owner, receiver, worker, settings):  # noqa: F811
    settings.WEBHOOK_ALLOW_PRIVATE = True
    endpoint, secret = webhook_endpoint_create(
        membership=owner, url=receiver.url, events=["report.ready"]
    )
    (delivery,) = webhooks_emit(organization=org, event="report.ready", payload={"audit": 3})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.status == DeliveryStatus.SUCCEEDED:
            break
        time.sleep(0.2)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    (request,) = receiver.requests
    assert verify(request, secret)["data"] == {"audit": 3}
    assert WebhookDelivery.objects.for_org(org).count() == 1
