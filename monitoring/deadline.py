"""Calling a collector with a deadline, whatever runs it (the embedded default's solo Celery
pool enforces no Celery time limit at all):

* ``here_with_deadline``: in this thread, interrupted by a timer signal (``SIGALRM``) when the
  time is up. For a run in a worker: the collector keeps this thread's database connection
  and transaction (it may read earlier findings), and a blocking call (a socket read, a
  sleep, waiting on a subprocess) is interrupted. Only the main thread gets signals, so a
  call from any other thread falls back to:
* ``in_thread_with_deadline``: in a daemon thread watched by this one, abandoned when the time
  is up (its result ignored). For "Test connection" in a web request, whose server may have
  its own use for signals.

``TimedOut`` is a ``BaseException``: a collector's ``except Exception`` cannot swallow it.
"""

from __future__ import annotations

import contextvars
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections as db_connections

T = TypeVar("T")


class TimedOut(BaseException):
    """The deadline passed before the call returned."""


def in_thread_with_deadline(
    work: Callable[[], T], seconds: float, tick: Callable[[], None] | None = None
) -> T:
    """``work()`` in a daemon thread (with this context: the organization in scope); its
    result or exception, or ``TimedOut``. ``tick`` runs about every second meanwhile."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller, whatever it is
            box["error"] = exc
        finally:
            db_connections.close_all()  # this thread's own, if the work used the database

    thread = threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True)
    deadline = time.monotonic() + seconds
    thread.start()
    while True:
        thread.join(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
        if tick is not None:
            tick()
        if not thread.is_alive():
            break
        if time.monotonic() >= deadline:
            raise TimedOut
    if "error" in box:
        raise box["error"]
    return box["value"]


def _interrupt(signum: int, frame: object) -> None:
    raise TimedOut


def here_with_deadline(work: Callable[[], T], seconds: float) -> T:
    """``work()`` in this (main) thread, interrupted by ``TimedOut`` after ``seconds``."""
    if threading.current_thread() is not threading.main_thread():
        return in_thread_with_deadline(work, seconds)
    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        return work()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
