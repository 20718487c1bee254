"""One shape for every API error: ``{"detail": ..., "code": ...}`` with a 4xx status.

Validation errors keep their per-field messages under ``errors`` so a client can show them
next to its own fields.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, UnreadablePostError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from soc2app.api.idempotency import OUTCOME_UNKNOWN_MESSAGE, OutcomeUnknown
from soc2app.errors import DomainError


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        message = _first_message(value)
        return message if key in ("non_field_errors", "detail") else f"{key}: {message}"
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, OutcomeUnknown):
        # Lost during COMMIT: not "nothing was saved" (it may have been); retry with the key.
        from soc2app.middleware import close_broken_connections

        close_broken_connections()
        return Response(
            {"detail": OUTCOME_UNKNOWN_MESSAGE, "code": "outcome_unknown"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "30", "Cache-Control": "no-store"},
        )
    if isinstance(exc, OperationalError | InterfaceError):
        # A lost database connection: 503 with the one error shape, never a 500.
        from soc2app.middleware import UNAVAILABLE_MESSAGE, close_broken_connections

        close_broken_connections()
        return Response(
            {"detail": UNAVAILABLE_MESSAGE, "code": "unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "30", "Cache-Control": "no-store"},
        )
    if isinstance(exc, UnreadablePostError):
        # The client went away mid-body: its fault, not ours (and not logged as a 500).
        from soc2app.uploads import INCOMPLETE_MESSAGE

        return Response(
            {"detail": INCOMPLETE_MESSAGE, "code": "upload_incomplete"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.field:  # the same place as a serializer's field errors
            body["errors"] = {exc.field: [exc.message]}
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": _first_message(exc.detail),
            "code": "invalid",
            "errors": exc.detail,
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        response.data = {"detail": _first_message(exc.detail), "code": code}
    return response
