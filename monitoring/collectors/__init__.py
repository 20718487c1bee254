"""Collectors: what runs a connection's checks against the system it connects to.

Each kind of connection but *custom* (whose results are pushed through the API) has one
collector, a class with two methods, looked up by ``collector_for(kind)``:

* ``probe(connection) -> Probe``: "Test connection": whether the credentials work and what
  they can see, in one plain sentence; never raises for bad credentials (``ok=False``).
* ``collect(connection, progress) -> Collected``: run every check once; ``progress(text)``
  tells the run's page what is happening. Returns the parsed checks and results (clean, as
  ``monitoring.specs.clean_check``/``clean_results`` leave them) and the tool's raw output,
  which the run stores once as its evidence file. Anything that keeps the run from finishing
  (bad credentials, a missing tool, a hang, output that is not what it should be) raises
  ``CollectorError`` with a message for the page; a collector never puts a secret in it.

A collector class also declares, for the connection form and the API:

* ``config_fields``: a tuple of ``ConfigField`` (the kind's settings that are not secret:
  regions and services, the GitHub organization...); the connection services clean
  ``Connection.config`` against them;
* ``credentials_help``: one sentence on what to paste as credentials (a token, JSON keys).

The run itself (a Celery task, claimed once, redelivered if a worker dies, time-limited) is
``monitoring.runs``; it hands ``Collected`` to ``monitoring.services.results_ingest``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.utils.module_loading import import_string

from monitoring.specs import CheckSpec, ResultSpec

if TYPE_CHECKING:
    from monitoring.models import Connection

Progress = Callable[[str], None]


class CollectorError(Exception):
    """A run cannot finish; ``str(exc)`` is shown on the run's page (no secrets in it)."""


@dataclass(frozen=True)
class RawOutput:
    """A tool's output as it printed it, stored once with the run (SHA-256, size)."""

    content: bytes
    name: str  # a file name for downloads, e.g. "prowler-output.ocsf.json"
    content_type: str = "application/json"


@dataclass(frozen=True)
class Collected:
    batch: Sequence[tuple[CheckSpec, Sequence[ResultSpec]]]
    output: RawOutput


@dataclass(frozen=True)
class Probe:
    ok: bool
    message: str


@dataclass(frozen=True)
class ConfigField:
    """One setting of a kind of connection, kept in ``Connection.config[name]``."""

    name: str
    label: str
    help: str = ""
    many: bool = False  # a list of values (one per line in the form, a JSON list in the API)
    choices: tuple[str, ...] = ()  # the values allowed, when limited
    required: bool = False
    default: str | tuple[str, ...] = ""


class Collector(Protocol):
    config_fields: tuple[ConfigField, ...]
    credentials_help: str

    def probe(self, connection: Connection) -> Probe: ...

    def collect(self, connection: Connection, progress: Progress) -> Collected: ...


# Kind -> dotted path of its collector class (imported on first use).
COLLECTORS: dict[str, str] = {
    "aws": "monitoring.collectors.prowler.ProwlerCollector",
    "github": "monitoring.collectors.github.GitHubCollector",
}


def _registry() -> dict[str, str]:
    """The shipped collectors, and those a deployment adds or replaces with the setting
    ``MONITORING_EXTRA_COLLECTORS`` ("kind=dotted.path", e.g. the tests' fake collector, which
    their worker processes must import too)."""
    from django.conf import settings

    extra = {}
    for item in getattr(settings, "MONITORING_EXTRA_COLLECTORS", ()):
        kind, _, path = item.partition("=")
        if kind.strip() and path.strip():
            extra[kind.strip()] = path.strip()
    return {**COLLECTORS, **extra}


def collector_for(kind: str) -> Collector:
    try:
        path = _registry()[kind]
    except KeyError:
        raise CollectorError(
            "This kind of connection has no collector: results are pushed."
        ) from None
    try:
        return import_string(path)()
    except ImportError:
        raise CollectorError(
            "This kind of connection is not available in this installation (its collector "
            "is not installed)."
        ) from None


def runnable_kinds() -> list[str]:
    """Kinds whose collector is installed here (they can be run and tested)."""
    kinds = []
    for kind in _registry():
        try:
            collector_for(kind)
        except CollectorError:
            continue
        kinds.append(kind)
    return kinds
