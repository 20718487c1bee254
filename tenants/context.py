"""The current organization of a request or task, held in a ContextVar.

Set by ``TenantMiddleware`` for ``/o/<slug>/`` views, by the API base view for API calls and by
``org_scope`` in tasks and commands; always reset in ``finally`` so nothing leaks between
requests that share a thread.

On PostgreSQL the same value goes into the connection's ``app.current_org`` setting, which the
row-level security policies read, before the next query (``tenants.rls``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenants.models import Organization

_current_org_id: ContextVar[int | None] = ContextVar("current_org_id", default=None)


def current_org_id() -> int | None:
    return _current_org_id.get()


def activate(org: Organization | int) -> Token:
    org_id = org if isinstance(org, int) else org.pk
    return _current_org_id.set(org_id)


def deactivate(token: Token) -> None:
    _current_org_id.reset(token)


@contextmanager
def org_scope(org: Organization | int) -> Iterator[Organization | int]:
    """Run a block with ``org`` as the current organization (tasks, commands, tests)."""
    token = activate(org)
    try:
        yield org
    finally:
        deactivate(token)
