"""A webhook delivered by a real Celery worker (Redis broker, PostgreSQL, its own process):
``webhooks_emit`` enqueues on commit, the task is registered in the worker
(``CELERY_IMPORTS``), loads the delivery by id, signs and
sends it to a real receiver, and records the outcome."""

from __future__ import annotations

import time

import pytest

from soc2app.celery import app as celery_app
from tenants.models import DeliveryStatus, WebhookDelivery
from tenants.webhooks.services import webhook_endpoint_create, webhooks_emit
from tests.webhook_receiver import verify
from tests.workers import celery_worker


@pytest.fixture
def worker(tmp_path):
    with celery_worker(tmp_path, "test-webhooks", WEBHOOK_ALLOW_PRIVATE="1") as queue:
        # The tasks webhooks_emit enqueues on commit go to this worker's queue.
        default_queue = celery_app.conf.task_default_queue
        celery_app.conf.task_default_queue = queue
        try:
            yield queue
        finally:
            celery_app.conf.task_default_queue = default_queue


@pytest.mark.slow
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
