"""Request bodies are read only as far as the endpoint accepts, and a broken one says so.

Three layers, outermost first (the proxy's ``client_max_body_size`` is the fourth, in front):

- ``RequestBodyLimitMiddleware`` runs before anything reads the body (sessions, CSRF): a
  ``Content-Length`` over the endpoint's cap is answered 413 at once, so neither a 200 MB upload
  nor an anonymous 100 MB POST to the login page is read, let alone written to disk. Endpoints
  that take files are marked with ``@accepts_uploads``; every other body is capped at
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (plus room for multipart headers). A chunked body (no
  ``Content-Length``) is refused: Django reads such a body as empty, which used to surface as
  "effective_start: This field is required".
- ``UploadLimitHandler``, first of ``FILE_UPLOAD_HANDLERS``, stops reading a file part at
  ``EVIDENCE_MAX_UPLOAD_MB`` whatever the headers claimed (``StopUpload(connection_reset=True)``:
  the rest is never read), skips file parts sent to endpoints that take none, and notices a
  body that ended early (the file part cut off, or fewer bytes than ``Content-Length``).
  Django closes, and so deletes, the temporary file of a stopped or interrupted part.
- The upload views call ``upload_problem(request)`` and show what the handler noticed as the
  file field's error (browser) or ``{"detail", "code"}`` (API): 413 ``too_large`` or 400
  ``upload_incomplete``. None of this is a 500, and none is logged as one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

from soc2app.errors import ValidationFailed

INCOMPLETE_MESSAGE = "The upload was incomplete: send the file again."
_CHUNKED_MESSAGE = (
    f"{INCOMPLETE_MESSAGE} Send it with a Content-Length header: bodies in chunked transfer "
    "encoding are not read."
)
# Multipart headers and boundaries around the fields an endpoint without files accepts.
_MULTIPART_SLACK = 64 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

V = TypeVar("V", bound=Callable[..., Any])


class UploadTooLarge(ValidationFailed):
    status = 413
    code = "too_large"


class UploadIncomplete(ValidationFailed):
    code = "upload_incomplete"


def accepts_uploads(view: V) -> V:
    """Mark a view (function or DRF view class) as taking files up to the evidence limit."""
    view.accepts_uploads = True  # type: ignore[attr-defined]
    return view


def _human(n: int) -> str:
    from evidence.validation import human_size  # one wording of sizes everywhere

    return human_size(n)


def file_limit() -> int:
    return int(settings.EVIDENCE_MAX_UPLOAD_BYTES)


def too_large(limit: int, size: int | None = None) -> UploadTooLarge:
    said = (
        f"This upload is {_human(size)}; the limit is {_human(limit)} per file."
        if size
        else f"The file is larger than the {_human(limit)} limit per file."
    )
    return UploadTooLarge(f"{said} Upload a smaller file or split it into parts.", field="file")


def upload_problem(request: HttpRequest) -> ValidationFailed | None:
    """What went wrong while the upload handler read the body (read ``request.FILES`` first)."""
    return getattr(request, "_upload_problem", None)


def _takes_uploads(request: HttpRequest) -> bool:
    try:
        func = resolve(request.path_info).func
    except Resolver404:
        return False
    # A DRF viewset's view function carries its class as ``cls``.
    return bool(
        getattr(func, "accepts_uploads", False)
        or getattr(getattr(func, "cls", None), "accepts_uploads", False)
    )


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None  # Django reads a body without a valid length as empty


def _refuse(request: HttpRequest, error: ValidationFailed) -> HttpResponse:
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        body = {"detail": error.message, "code": error.code}
        response = JsonResponse(body, status=error.status)
    else:
        # No request context: sessions and the user are not loaded (that would read the body).
        title = "The file is too large" if error.status == 413 else "The upload was incomplete"
        context = {"title": title, "message": error.message}
        html = render_to_string("request_refused.html", context)
        response = HttpResponse(html, status=error.status)
    # Set here: this answer skips CommonMiddleware, and without a length the client has to
    # wait for the connection to close, which a server draining the unread body delays.
    response["Content-Length"] = str(len(response.content))
    return response


class RequestBodyLimitMiddleware:
    """Refuse, before anything reads it, a body larger than the endpoint takes or chunked."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in _BODY_METHODS:
            return self.get_response(request)
        uploads = _takes_uploads(request)
        request._upload_file_limit = file_limit() if uploads else 0  # type: ignore[attr-defined]
        length = _content_length(request)
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and length is None:
            return _refuse(request, UploadIncomplete(_CHUNKED_MESSAGE, field="file"))
        fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length is not None and fields is not None:
            cap = file_limit() + fields if uploads else fields + _MULTIPART_SLACK
            if length > cap:
                if uploads:
                    return _refuse(request, too_large(file_limit(), length))
                return _refuse(
                    request,
                    UploadTooLarge(
                        f"The request is {_human(length)}; this address accepts at most "
                        f"{_human(cap)}.",
                    ),
                )
        try:
            return self.get_response(request)
        finally:
            _discard_temporary_files(request)


def _discard_temporary_files(request: HttpRequest) -> None:
    """Delete the upload's temporary files now that the view is done. Django does it for a
    stopped or interrupted upload, but not when reading the body failed (a client that reset
    the connection: ``UnreadablePostError``), which left the part read so far on disk."""
    for handler in request.__dict__.get("_upload_handlers", ()):  # never parses the body
        upload = getattr(handler, "file", None)
        if upload is not None:
            upload.close()  # a TemporaryUploadedFile deletes its file on close


class UploadLimitHandler(FileUploadHandler):
    """First upload handler: passes each file's bytes on to Django's own handlers (memory,
    then a temporary file) until the limit, and notes why an upload did not complete."""

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        # Without the middleware (a request built in a test), the evidence limit applies.
        self.limit = getattr(self.request, "_upload_file_limit", file_limit())
        self.content_length = content_length

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        if not self.limit:
            raise SkipFile()  # this endpoint takes no files: read past it, store nothing

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self._flag(too_large(self.limit))
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file

    def upload_interrupted(self) -> None:
        self._flag(UploadIncomplete(INCOMPLETE_MESSAGE, field="file"))

    def upload_complete(self) -> None:
        # The body ended before Content-Length said it would (the client went away, or a
        # proxy cut it): whatever was parsed is a fragment. Django's LimitedStream counts it.
        stream = getattr(self.request, "_stream", None)
        read, limit = getattr(stream, "_pos", None), getattr(stream, "limit", None)
        if isinstance(read, int) and isinstance(limit, int) and read < limit:
            self._flag(UploadIncomplete(INCOMPLETE_MESSAGE, field="file"))

    def _flag(self, problem: ValidationFailed) -> None:
        if upload_problem(self.request) is None:  # the first cause, not its consequences
            self.request._upload_problem = problem
