"""The freshness job on a real Celery worker: Redis broker, PostgreSQL, a separate process.

The worker is started here as a subprocess against the test database (pytest-django's
``test_<name>``), consuming a queue of its own so no other worker can take the message. Data is
committed (transactional test) so the worker sees it; e-mails go to files under ``tmp_path``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from celery.backends.redis import RedisBackend
from celery.result import AsyncResult
from django.conf import settings
from django.utils import timezone

from evidence.models import EvidenceVersion
from evidence.tasks import check_freshness
from soc2app.celery import app as celery_app
from tests.factories import evidence_row
from tests.workers import celery_worker

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def worker(tmp_path):
    """A Celery worker process on its own queue; yields (queue, mail folder)."""
    mail_dir = tmp_path / "mail"
    with celery_worker(
        tmp_path,
        "test-freshness",
        CELERY_RESULT_BACKEND=settings.CELERY_BROKER_URL,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    ) as queue:
        yield queue, mail_dir


def _run(queue: str) -> dict:
    sent = check_freshness.apply_async(kwargs={}, queue=queue)
    backend = RedisBackend(app=celery_app, url=settings.CELERY_BROKER_URL)
    try:
        return AsyncResult(sent.id, app=celery_app, backend=backend).get(timeout=90)
    finally:
        backend.client.close()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_freshness_on_a_real_worker_is_idempotent(org, control, worker):
    queue, mail_dir = worker
    today = timezone.localdate()
    stale = evidence_row(
        control, today - dt.timedelta(days=200), valid_until=today - dt.timedelta(days=1)
    )
    expiring = evidence_row(
        control, today - dt.timedelta(days=80), valid_until=today + dt.timedelta(days=2)
    )

    first = _run(queue)

    assert first["organizations"][org.slug] == {"stale": 1, "expiring": 1, "fresh": 0, "digests": 1}
    states = dict(
        EvidenceVersion.objects.for_org(org)
        .filter(pk__in=[stale.pk, expiring.pk])
        .values_list("pk", "freshness")
    )
    assert states == {stale.pk: "stale", expiring.pk: "expiring"}
    (mail_file,) = mail_dir.glob("*.log")
    message = mail_file.read_text()
    assert f"To: {control.owner.user.email}" in message
    assert f"Subject: {org.name}: 2 evidence items need attention" in message
    assert stale.item.title in message and expiring.item.title in message

    second = _run(queue)

    assert second == {**second, "changed": 0, "digests": 0, "organizations": {}}
    assert list(mail_dir.glob("*.log")) == [mail_file]
