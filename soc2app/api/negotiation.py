"""Content negotiation of file downloads."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class AnyAccept(DefaultContentNegotiation):
    """A download sends the file whatever ``Accept`` says (``application/pdf`` included),
    and its errors as JSON: never a 406 from asking for the file's own type."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type
