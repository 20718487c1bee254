"""Two freshness runs at the same time never send the same digest twice (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from evidence.freshness import freshness_update
from evidence.notifications import digests_send
from tenants.context import org_scope
from tests.factories import ControlFactory, evidence_row


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_digest_runs_claim_each_change_once(org, contributor, manager):
    today = timezone.localdate()
    for _ in range(20):
        control = ControlFactory(organization=org, owner=contributor)
        evidence_row(
            control, today - dt.timedelta(days=200), valid_until=today - dt.timedelta(days=1)
        )
    freshness_update(organization=org, today=today)
    start = threading.Barrier(4)
    sent: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            with org_scope(org):
                sent.append(digests_send(organization=org))
        except BaseException as exc:  # surfaced below, with the thread's connection closed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(sent) == [0, 0, 0, 1]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"{org.name}: 20 evidence items need attention"
