"""Request body handling of the organization API: JSON that never turns into a 500.

- A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused by Django while DRF reads it
  (``RequestDataTooBig``, which DRF does not handle); ``as_api_error`` turns that, and too many
  form fields or files, into a JSON 413 or 400.
- JSON nested deeper than Python's parser recurses (``[[[[...]]]]``) raises ``RecursionError``,
  not the ``ValueError`` DRF turns into a 400; ``SafeJSONParser`` does that too.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class SafeJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc


def as_api_error(exc: Exception) -> Exception:
    """The API error for Django's refusals of a request body; other exceptions unchanged."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return BodyTooLarge(
            f"The body is over {limit:,} bytes; send less per request "
            "(large evidence goes up as a file, with multipart/form-data)."
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return ParseError("The body has too many fields or files.")
    return exc
