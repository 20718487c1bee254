"""Log lines operators can search: every line carries the request id, organization id and user
id (``ContextFilter``); ``LOG_FORMAT=json`` writes one JSON object per line (``JsonFormatter``).

Only named fields are written: never the request object Django's loggers attach (its headers
hold the Authorization header and cookies), never form data.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from tenants.context import current_org_id

_request: ContextVar[HttpRequest | None] = ContextVar("log_request", default=None)
_request_id: ContextVar[str] = ContextVar("log_request_id", default="")
# A caller's id is kept if it looks like one (a proxy's or a client's), else a new one is made:
# nothing else from the client reaches the logs this way.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _user_id(request: HttpRequest | None) -> int | None:
    user = getattr(request, "user", None) if request is not None else None
    # Django's lazy user: read it only once the request has (logging must not query).
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return wrapped.pk


def _org_id(request: HttpRequest | None) -> int | None:
    org_id = current_org_id()
    if org_id is None and request is not None:
        org = getattr(request, "organization", None)
        org_id = getattr(org, "pk", None)
    return org_id


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``org_id`` and ``user_id`` to every record (None outside them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = _request.get()
        record.request_id = _request_id.get() or None
        record.org_id = _org_id(request)
        record.user_id = _user_id(request)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "org_id": getattr(record, "org_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class RequestContextMiddleware:
    """Gives each request its id (the caller's ``X-Request-ID`` when well-formed), echoed in
    the response, and makes the request visible to ``ContextFilter``. Outermost middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        # Not reset here: Django logs a 4xx/5xx after the middleware returns; the
        # request_finished signal clears them.
        _request.set(request)
        _request_id.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def _clear(**_: object) -> None:
    _request.set(None)
    _request_id.set("")


request_finished.connect(_clear, dispatch_uid="soc2app.logs.clear")
