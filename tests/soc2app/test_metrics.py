"""The Prometheus metrics operators scrape: the web's ``/metrics`` behind its bearer token
(request latency by view, Celery queue lengths from Redis), and a real Celery worker's own
endpoint on its internal port (task outcomes, report durations)."""

from __future__ import annotations

import socket
import urllib.request
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from prometheus_client.parser import text_string_to_metric_families

from reports.bench import seed
from reports.models import Report, ReportStatus
from reports.tasks import generate_report
from tests.workers import celery_worker, wait_for

TOKEN = "metrics-test-token-0123456789"  # noqa: S105


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _scrape(client) -> dict[tuple[str, frozenset], float]:  # noqa: ANN001
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return _samples(response.content.decode())


@pytest.mark.django_db
def test_metrics_need_their_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404  # off until a token is configured
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=TOKEN).status_code == 403


@pytest.mark.django_db
def test_request_latency_is_recorded_by_view(client, settings):
    settings.METRICS_TOKEN = TOKEN
    key = frozenset({"view": "healthz", "method": "GET", "status": "200"}.items())
    before = _scrape(client).get(("soc2app_http_request_duration_seconds_count", key), 0)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    client.get(f"/no-such-page-{uuid.uuid4().hex}")  # a 404 is "unmatched", never its path
    samples = _scrape(client)
    assert samples[("soc2app_http_request_duration_seconds_count", key)] == before + 3
    views = {dict(labels).get("view") for name, labels in samples if "http_request" in name}
    assert "unmatched" in views and not any(v and "no-such-page" in v for v in views)


@pytest.mark.redis
@pytest.mark.django_db
def test_queue_lengths_come_from_redis(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.CELERY_REPORTS_QUEUE = f"test-metrics-{uuid.uuid4().hex[:12]}"
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    try:
        broker.rpush(settings.CELERY_REPORTS_QUEUE, "a", "b", "c")
        samples = _scrape(client)
    finally:
        broker.delete(settings.CELERY_REPORTS_QUEUE)
        broker.close()
    labels = frozenset({"queue": settings.CELERY_REPORTS_QUEUE}.items())
    assert samples[("soc2app_celery_queue_length", labels)] == 3
    default = frozenset({"queue": settings.CELERY_TASK_DEFAULT_QUEUE}.items())
    assert ("soc2app_celery_queue_length", default) in samples


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_serves_its_task_outcomes_and_report_durations(catalog, tmp_path):
    audit, _ = seed(controls=5, versions=20, slug="metrics")
    report = Report.objects.create(organization=audit.organization, audit=audit, kind="csv")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"

    def scrape() -> dict | None:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (loopback)
                return _samples(answer.read().decode())
        except OSError:
            return None

    with celery_worker(tmp_path, "test-metrics", METRICS_PORT=str(port)) as queue:
        generate_report.apply_async(args=[report.pk], queue=queue)
        wait_for(
            lambda: (
                Report.objects.for_org(audit.organization).get(pk=report.pk).status
                == ReportStatus.DONE
            ),
            60,
            "the report",
        )
        task = frozenset({"task": "reports.tasks.generate_report", "outcome": "succeeded"}.items())
        samples = wait_for(
            lambda: (s := scrape()) and ("soc2app_celery_tasks_total", task) in s and s,
            30,
            "the worker's metrics",
        )

    assert samples[("soc2app_celery_tasks_total", task)] == 1
    done = frozenset({"kind": "csv", "outcome": "done"}.items())
    assert samples[("soc2app_report_duration_seconds_count", done)] == 1
