"""Small filters of the report templates."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()

FILLS = {"met": "#2f9e57", "partial": "#f0a30a", "gap": "#d64545"}
LABELS = {"met": "Met", "partial": "Partly met", "gap": "Gap", "not_applicable": "Not applicable"}


@register.filter
def segment_fill(status: str) -> str:
    return FILLS.get(str(status), "#9aa5b1")


@register.filter
def status_label(status: str) -> str:
    return LABELS.get(str(status), str(status))


@register.filter
def brief_reasons(reasons: list[str], type2: bool = False) -> str:
    """A criterion's reasons for a table cell. In a Type 2 report every missing sub-period is
    an exception, listed one by one in the Exceptions section: here they are counted, so one
    criterion's row does not run over pages repeating that list."""
    if not type2:
        return " ".join(reasons)
    kept = [r for r in reasons if not r.startswith("Exception: ")]
    n = len(reasons) - len(kept)
    if n:
        kept.append(f"{n} exception{'' if n == 1 else 's'}: see Exceptions.")
    return " ".join(kept)


@register.filter
def email(address: str) -> str:
    """An e-mail address that never wraps, except, when it is wider than its whole column, at
    the ``@`` (each part stays whole: no hyphen or slash inside it becomes a line break)."""
    local, at, domain = str(address).rpartition("@")
    if not at:
        return format_html('<span class="nw">{}</span>', address)
    return format_html('<span class="nw">{}</span><wbr><span class="nw">@{}</span>', local, domain)
