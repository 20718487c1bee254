"""Concurrent pushes to one connection never fail or open the same finding twice (PostgreSQL:
the connection's row serializes its runs)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection

from monitoring.models import Check, CheckRun, Finding, FindingState
from tenants.context import org_scope
from tests.monitoring.conftest import push


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_pushes_of_a_new_check_open_one_finding(org, manager, connection, control):
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            with org_scope(org):
                push(manager, connection, ("bucket-a", "fail"))
        except BaseException as exc:  # surfaced below, with the thread's connection closed
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with org_scope(org):
        assert Check.objects.count() == 1
        assert CheckRun.objects.count() == 4
        assert Finding.objects.filter(state=FindingState.OPEN).count() == 1
