"""Prometheus metrics: what operators watch, defined in one place.

Served two ways (README, "Monitoring"):
- by the web at ``/metrics``, only with ``Authorization: Bearer <METRICS_TOKEN>`` (404 when no
  token is configured, 403 for a wrong one). Under gunicorn, set ``PROMETHEUS_MULTIPROC_DIR``
  (docker compose does): every worker process writes its samples there and a scrape adds
  them up (``deploy/gunicorn.conf.py`` clears the folder at start and marks dead workers);
- by a Celery worker on ``METRICS_PORT`` (an internal port, not published), for its tasks.

Labels are bounded: a view's name (never its path), a task's name, a report kind.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Metrics without labels write their file when defined: the folder must exist.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "soc2app_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TASKS = Counter("soc2app_celery_tasks", "Celery tasks finished, by outcome.", ["task", "outcome"])
REPORT_SECONDS = Histogram(
    "soc2app_report_duration_seconds",
    "Time to produce a report, by kind and outcome.",
    ["kind", "outcome"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 900),
)
FRESHNESS_SECONDS = Histogram(
    "soc2app_freshness_check_duration_seconds",
    "Time of one evidence freshness check (scan and digests).",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900),
)
FRESHNESS_CHANGES = Counter(
    "soc2app_freshness_changes", "Evidence versions moved to a freshness state.", ["state"]
)
VIRUS_SCAN_SECONDS = Histogram(
    "soc2app_virus_scan_duration_seconds",
    "Time of one ClamAV scan of an upload, by outcome.",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBHOOK_FAILURES = Counter(
    "soc2app_webhook_failures",
    "Webhook delivery attempts that failed, by whether they will be retried.",
    ["event", "final"],
)


class QueueLengths(Collector):
    """Messages waiting in each Celery queue, read from Redis at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "soc2app_celery_queue_length", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        url = settings.CELERY_BROKER_URL
        if url.startswith(("redis://", "rediss://")):
            import redis

            queues = dict.fromkeys(
                [settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_REPORTS_QUEUE]
            )
            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            try:
                for queue in queues:
                    gauge.add_metric([queue], client.llen(queue))
            except redis.RedisError as exc:  # the scrape still answers; the gauge is absent
                logger.warning("queue lengths unavailable: %s", exc)
                return
            finally:
                client.close()
        yield gauge


def registry() -> CollectorRegistry:
    """What a scrape reads: every process's samples (multiprocess mode) or this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        scraped = CollectorRegistry()
        multiprocess.MultiProcessCollector(scraped)
    else:
        scraped = REGISTRY
    collected = CollectorRegistry()
    collected.register(_Both(scraped))
    return collected


class _Both(Collector):
    def __init__(self, scraped: CollectorRegistry):
        self.scraped = scraped

    def collect(self) -> Iterator:
        yield from self.scraped.collect()
        yield from QueueLengths().collect()


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics``: 404 unless ``METRICS_TOKEN`` is set, 403 without that bearer token."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return HttpResponse("Send Authorization: Bearer <METRICS_TOKEN>.\n", status=403)
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RequestMetricsMiddleware:
    """Times every request, labelled by the view that answered it (bounded, unlike paths)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        REQUEST_SECONDS.labels(view, method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


def start_worker_server(port: int, addr: str) -> None:
    """A Celery worker's metrics on ``addr:port`` (an internal port: no token there)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=addr, registry=registry())
    logger.info("metrics on http://%s:%d/metrics", addr, port)
