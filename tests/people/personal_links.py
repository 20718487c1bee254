"""What the tests of policy and training links share: a roster written in one insert, the
queries of one batch at two sizes, and the planning task run with its batch tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext

from people import personal_links
from people.models import Person


def roster(org, n: int, offset: int = 0) -> list[int]:
    """``n`` people in Engineering (p<offset>@example.com, ...), started in 2024; their ids."""
    people = Person.objects.bulk_create(
        Person(
            organization=org,
            full_name=f"Person {i:04d}",
            email=f"p{i}@example.com",
            department="Engineering",
            start_date=dt.date(2024, 1, 1),
        )
        for i in range(offset, offset + n)
    )
    return [p.pk for p in people]


def batch_queries(org, kind: Callable[[], personal_links.LinkKind]) -> list[int]:
    """The queries of one batch of 10 new people, then of one of 100 (each fully sent: 110
    links, all marked sent)."""
    counts = []
    for size, offset in ((10, 0), (100, 10)):
        ids = roster(org, size, offset)
        with CaptureQueriesContext(connection) as queries:
            result = personal_links.batch_send(kind(), ids)
        assert (result.sent, result.failed) == (size, 0)
        counts.append(len(queries))
    links = kind().links().filter(**kind().scope)
    assert links.count() == 110 and not links.filter(sent_at__isnull=True).exists()
    return counts


def plan_and_run(monkeypatch, plan_task, batch_task, org, owner_id: int, people: int):
    """With batches of 3: (sizes of the batches the planning task queued, links the batch
    tasks sent, links they sent when run again, batches a second planning queued)."""
    monkeypatch.setattr(personal_links, "BATCH", 3)
    roster(org, people)
    queued = []
    monkeypatch.setattr(batch_task, "delay", lambda *args: queued.append(args))
    plan_task(org.pk, owner_id)
    sizes = [len(ids) for _org, _owner, ids in queued]
    first = sum(batch_task(*args) for args in queued)
    # The same messages delivered again (a worker lost after its work).
    again = sum(batch_task(*args) for args in queued)
    return sizes, first, again, plan_task(org.pk, owner_id)
