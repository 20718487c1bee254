"""Training links in batches, like policies': an assignment queues one planning task, which
queues one task per batch; a batch costs the same queries for 10 or 100 people, and run again
(``acks_late`` after a lost worker) it sends nothing twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection as db_connection
from django.utils import timezone

from people import personal_links
from tests.people.personal_links import batch_queries, plan_and_run, roster
from training import services, tasks
from training.links import TrainingLinks
from training.models import TrainingLink, TrainingRequirement

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(manager, module, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.assignment_add(membership=manager, requirement=module, target="everyone")
    return module


def fresh(req) -> TrainingRequirement:
    rows = TrainingRequirement.objects.for_org(req.organization_id)
    return rows.select_related("organization").get(pk=req.pk)


def test_a_batch_costs_the_same_queries_for_10_and_100_people(org, assigned):
    counts = batch_queries(org, lambda: TrainingLinks(fresh(assigned)))
    # SQLite splits a bulk insert at 999 parameters (100 training links: two statements).
    slack = 0 if db_connection.vendor == "postgresql" else 1
    assert 0 <= counts[1] - counts[0] <= slack, counts


def test_an_assignment_queues_batches_and_a_rerun_sends_only_the_unsent(org, assigned, monkeypatch):
    run = plan_and_run(
        monkeypatch, tasks.training_links_send, tasks.training_links_batch, org, assigned.pk, 8
    )
    assert run == ([3, 3, 2], 8, 0, 0)
    assert len(mail.outbox) == 8 and len({m.to[0] for m in mail.outbox}) == 8


def test_a_link_another_batch_is_sending_is_left_to_it(org, assigned):
    (pk,) = roster(org, 1)
    links = TrainingLink.objects.for_org(org).filter(requirement=assigned)
    status = TrainingLinks(fresh(assigned)).invites([pk])[0]
    TrainingLink.objects.create(
        organization=org,
        person_id=pk,
        requirement=assigned,
        due_on=status.fields["due_on"],
        token_sha256="c" * 64,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    assert personal_links.batch_send(TrainingLinks(fresh(assigned)), [pk]).sent == 0
    links.update(created_at=timezone.now() - personal_links.IN_FLIGHT - dt.timedelta(seconds=1))
    assert personal_links.batch_send(TrainingLinks(fresh(assigned)), [pk]).sent == 1
    assert links.count() == 1 and links.get().token_sha256 != "c" * 64
    assert len(mail.outbox) == 1
