"""Exceptions found outside the readiness engine, registered by the apps that find them.

``controls`` must not learn about the apps built on it (STYLE.md: small registries), so an app
that finds Type 2 exceptions of its own (``reports``: items failed in sample testing) registers
a provider in its ``AppConfig.ready``. The engine calls every provider once per Type 2 audit.

A provider takes the audit and the evaluated controls in scope (by id: the ``Control`` rows are
already loaded, so it needs no query for them) and returns its exceptions. It must take a fixed
number of queries whatever the audit's size: the readiness query counts are asserted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from controls.models import Audit
from controls.readiness_types import ControlException, ControlReadiness

ExceptionProvider = Callable[[Audit, dict[int, ControlReadiness]], Iterable[ControlException]]

_providers: dict[str, ExceptionProvider] = {}


def register_exception_provider(name: str, provider: ExceptionProvider) -> None:
    """Register ``provider`` under ``name`` (registering a name again replaces it, so a
    reloaded app config does not call it twice)."""
    _providers[name] = provider


def exception_providers() -> list[ExceptionProvider]:
    return list(_providers.values())
