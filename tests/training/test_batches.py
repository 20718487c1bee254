"""Training links in batches, like policies': an assignment queues one planning task, which
queues one task per batch; a batch costs the same queries for 10 or 100 people, and run again
(``acks_late`` after a lost worker) it sends nothing twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from people import personal_links
from people.models import Person
from training import services, tasks
from training.links import TrainingLinks
from training.models import TrainingLink, TrainingRequirement

pytestmark = pytest.mark.django_db


def roster(org, n: int, offset: int = 0) -> list[int]:
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


@pytest.fixture
def assigned(manager, module, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.assignment_add(membership=manager, requirement=module, target="everyone")
    return module


def fresh(req) -> TrainingRequirement:
    rows = TrainingRequirement.objects.for_org(req.organization_id)
    return rows.select_related("organization").get(pk=req.pk)


def test_a_batch_costs_the_same_queries_for_10_and_100_people(org, assigned):
    counts = []
    for size, offset in ((10, 0), (100, 10)):
        ids = roster(org, size, offset)
        with CaptureQueriesContext(db_connection) as queries:
            result = personal_links.batch_send(TrainingLinks(fresh(assigned)), ids)
        assert (result.sent, result.failed) == (size, 0)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    links = TrainingLink.objects.for_org(org).filter(requirement=assigned)
    assert links.count() == 110 and not links.filter(sent_at__isnull=True).exists()


def test_an_assignment_queues_batches_and_a_rerun_sends_only_the_unsent(org, assigned, monkeypatch):
    monkeypatch.setattr(personal_links, "BATCH", 4)
    roster(org, 9)
    queued = []
    monkeypatch.setattr(tasks.training_links_batch, "delay", lambda *args: queued.append(args))
    assert tasks.training_links_send(org.pk, assigned.pk) == 3
    assert [len(ids) for _org, _req, ids in queued] == [4, 4, 1]
    assert sum(tasks.training_links_batch(*args) for args in queued) == 9
    assert sum(tasks.training_links_batch(*args) for args in queued) == 0
    assert len(mail.outbox) == 9 and len({m.to[0] for m in mail.outbox}) == 9
    assert tasks.training_links_send(org.pk, assigned.pk) == 0
