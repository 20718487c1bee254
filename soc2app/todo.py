"""The to-do registry: what each member should do next, most urgent first.

Apps register *providers* in their ``AppConfig.ready`` (``register("evidence", provider)``);
the home page asks ``todo_for(membership)`` and never learns which apps exist, so a new app
(people: "policies to accept"; monitoring: "failing tests") adds its items without touching
the home.

A provider is a selector: ``provider(membership, today) -> list[TodoItem]``, scoped to the
membership's organization (read through ``for_org``), about that membership's work, and run
in a constant number of queries whatever the data size (the home page's query count is
asserted at two sizes in ``tests/soc2app/test_home.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from django.utils import timezone

from tenants.models import Membership


class Urgency(IntEnum):
    """Lower is more urgent; the home sorts by urgency, then due date."""

    OVERDUE = 0  # a date has passed, or the evidence no longer counts
    DUE_SOON = 1  # a date is near, or evidence runs out soon
    TODO = 2  # needs doing, no date pressing


@dataclass(frozen=True)
class TodoItem:
    kind: str  # machine name, e.g. "control.needs_evidence"
    title: str  # what to do, in words
    url: str  # where it is done (one click)
    urgency: Urgency
    due: dt.date | None = None
    owner: str = ""  # whose work it is (an email), for managers' views
    detail: str = ""  # one short line of context

    @property
    def is_overdue(self) -> bool:
        return self.urgency == Urgency.OVERDUE


Provider = Callable[[Membership, dt.date], list[TodoItem]]

_PROVIDERS: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Add (or replace, on a reloaded app config) the provider called ``name``."""
    _PROVIDERS[name] = provider


def providers() -> dict[str, Provider]:
    return dict(_PROVIDERS)


def sort_key(item: TodoItem) -> tuple:
    """Most urgent first, then the earliest due date (undated last), then by title."""
    return (item.urgency, item.due or dt.date.max, item.title)


def todo_for(membership: Membership, *, today: dt.date | None = None) -> list[TodoItem]:
    """Every registered provider's items for ``membership``, most urgent first."""
    today = today or timezone.localdate()
    items: list[TodoItem] = []
    for provider in _PROVIDERS.values():
        items.extend(provider(membership, today))
    return sorted(items, key=sort_key)
