"""Turns domain errors raised by services into HTML responses (the API has its own handler),
and a lost database connection into a 503."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject, empty

from soc2app.errors import DomainError

logger = logging.getLogger(__name__)


class LazyMessageMiddleware(MessageMiddleware):
    """Django's message middleware, with the message storage made when first used: most
    requests (every API call) never touch it, and making it (a cookie signer, the session
    storage) is a measurable share of a short request."""

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        storage = getattr(request, "_messages", None)
        if isinstance(storage, SimpleLazyObject) and storage._wrapped is empty:
            return response  # never used: nothing to store
        return super().process_response(request, response)


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, UnreadablePostError):
            # The client went away mid-body: a 400 for its logs, not a 500 in ours.
            from soc2app.uploads import INCOMPLETE_MESSAGE, UploadIncomplete

            exception = UploadIncomplete(INCOMPLETE_MESSAGE)
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        return render(
            request,
            "error.html",
            {"title": "That did not work", "message": exception.message},
            status=exception.status,
        )


UNAVAILABLE_MESSAGE = (
    "The database could not be reached, so nothing was saved. Try again in a minute; "
    "if it keeps happening, ask your administrator to check the database."
)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 for a lost database connection: JSON under /api/, a plain page elsewhere.

    Rendered without a request context: context processors (the tenant, messages) would query
    the database that just failed.
    """
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": UNAVAILABLE_MESSAGE, "code": "unavailable"}, status=503
        )
    else:
        html = render_to_string("unavailable.html", {"message": UNAVAILABLE_MESSAGE})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A connection dropped mid-request answers 503, never a 500 or a half write.

    The failed statement's transaction (``transaction.atomic`` in every write service) is rolled
    back by the server when the connection dies, so nothing of the write is committed; the
    broken connection is closed so the next request of this thread reconnects.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "database unavailable during %s %s: %s", request.method, request.path, exception
        )
        close_broken_connections()
        return database_unavailable_response(request)


def close_broken_connections() -> None:
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            continue  # an enclosing atomic block (tests, ATOMIC_REQUESTS) rolls back and closes
        try:
            conn.close_if_unusable_or_obsolete()
        except DatabaseError:  # closing a dead connection can fail too; it is gone either way
            logger.debug("closing a broken connection failed", exc_info=True)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler. A database error raised outside a view (in the session or tenant
    middleware, say) is an outage, not a bug: answer 503 like the middleware above."""
    import sys

    from django.views.defaults import server_error as default_server_error

    exception = sys.exc_info()[1]
    if isinstance(exception, OperationalError | InterfaceError):
        return database_unavailable_response(request)
    return default_server_error(request)
