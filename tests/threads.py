"""Work on a second database connection, in a thread, for tests of what two transactions do
at once (PostgreSQL): its result or exception, and whether it waits for a lock this test's
connection holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection

from tenants.context import org_scope


class InOrg(threading.Thread):
    """``work`` on its own connection, in the organization; its backend's pid once started,
    and its result or the exception it raised."""

    def __init__(self, org, work: Callable[[], object]) -> None:
        super().__init__()
        self.org, self.work = org, work
        self.pid: int | None = None
        self.started = threading.Event()
        self.result: object = None

    def run(self) -> None:
        try:
            with org_scope(self.org):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    self.pid = cursor.fetchone()[0]
                self.started.set()
                self.result = self.work()
        except BaseException as exc:  # surfaced by the test, with the connection closed
            self.result = exc
        finally:
            self.started.set()
            connection.close()

    def blocked(self) -> bool:
        """Whether it is waiting for a lock (the one the test's transaction holds); False when
        it finished without waiting."""
        assert self.started.wait(30)
        for _ in range(400):
            if not self.is_alive():
                return False
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)",
                    [self.pid],
                )
                if cursor.fetchone()[0]:
                    return True
            time.sleep(0.05)
        return False


def run_together(org, works: list[Callable[[], object]]) -> list[object]:
    """Each of ``works`` on its own connection, started together; waits for all and fails
    the test if any raised. Their results, in order."""
    others = [InOrg(org, work) for work in works]
    for other in others:
        other.start()
    for other in others:
        other.join(timeout=60)
    failed = [o.result for o in others if isinstance(o.result, BaseException)]
    assert not failed, failed
    return [o.result for o in others]
