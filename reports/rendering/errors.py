"""Errors of report rendering (no WeasyPrint import: the web process loads this cheaply)."""

from __future__ import annotations


class RenderFailed(RuntimeError):
    """The PDF could not be produced; the message says why (shown to the user)."""
