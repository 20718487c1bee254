"""Template filters of evidence pages."""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def isodate(value: object) -> dt.date | dt.datetime | None:
    """An ISO date or date-time of a system-generated version's data ("2026-11-30") as a
    date for the ``date`` filter; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    except ValueError:
        return None
