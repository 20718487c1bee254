"""Small filters of the report templates."""

from __future__ import annotations

from django import template

register = template.Library()

FILLS = {"met": "#2f9e57", "partial": "#f0a30a", "gap": "#d64545"}
LABELS = {"met": "Met", "partial": "Partly met", "gap": "Gap", "not_applicable": "Not applicable"}


@register.filter
def segment_fill(status: str) -> str:
    return FILLS.get(str(status), "#9aa5b1")


@register.filter
def status_label(status: str) -> str:
    return LABELS.get(str(status), str(status))
