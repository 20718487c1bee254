"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from soc2app.celery import app as celery_app

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked, so a slow database never kills the pod."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        logger.warning("readyz: database unreachable: %s", exc)
        return "unreachable"
    return None


def _check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        logger.warning("readyz: broker unreachable: %s", exc)
        return "unreachable"
    return None


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database and the Celery broker both answer."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    ok = all(result is None for result in checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: result or "ok" for name, result in checks.items()},
    }
    return JsonResponse(body, status=200 if ok else 503)


_PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {"/healthz": healthz, "/readyz": readyz}


class ProbeMiddleware:
    """Answers ``/healthz`` and ``/readyz`` before host validation and the HTTPS redirect.

    Probes (docker compose's healthcheck, load balancers) call by ``localhost`` or an IP over
    plain HTTP: ``ALLOWED_HOSTS`` would answer them 400 and ``SECURE_SSL_REDIRECT`` 301, so
    the probe failed, or passed without checking anything. They reveal only "ok" or
    "unreachable", so the rules the rest of the site needs are not needed here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = _PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        request.resolver_match = resolve(request.path_info)  # the metrics' view label
        return probe(request)
