"""Sending a version to many people: the request queues one planning task, which queues one
task per batch; a batch writes its links at once and costs the same queries for 10 or 100
people; a batch run again (``acks_late`` after a lost worker) sends only what was not sent;
the acceptance overview renders in constant queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from people import personal_links
from policies import acceptance, services, tasks
from policies.bench import acceptances_bulk
from policies.links import PolicyLinks
from policies.models import AcceptanceLink, PolicyVersion
from tests.people.personal_links import batch_queries, plan_and_run, roster
from tests.policies.conftest import approve

pytestmark = pytest.mark.django_db

REFUSED: set[str] = set()


class RefusingBackend(EmailBackend):
    """The test outbox, whose server refuses the addresses in ``REFUSED``."""

    def send_messages(self, messages):
        if any(to in REFUSED for m in messages for to in m.to):
            raise OSError("550 mailbox unavailable")
        return super().send_messages(messages)


def fresh(version: PolicyVersion) -> PolicyVersion:
    """The version as a task loads it (nothing cached from an earlier batch)."""
    rows = PolicyVersion.objects.for_org(version.organization_id)
    return rows.select_related("policy", "organization").get(pk=version.pk)


@pytest.fixture
def version(manager, approver, adopted):
    approve(manager, approver, adopted)
    acceptance.assignment_add(membership=manager, policy=adopted, target="everyone", send=False)
    return acceptance.current_version(adopted)


def test_a_batch_costs_the_same_queries_for_10_and_100_people(org, version):
    counts = batch_queries(org, lambda: PolicyLinks(fresh(version)))
    assert counts[0] == counts[1], counts
    assert len(mail.outbox) == 110


def test_the_request_queues_batches_and_a_rerun_sends_only_the_unsent(org, version, monkeypatch):
    run = plan_and_run(
        monkeypatch, tasks.policy_links_send, tasks.policy_links_batch, org, version.policy_id, 7
    )
    assert run == ([3, 3, 1], 7, 0, 0)
    assert len(mail.outbox) == 7 and len({m.to[0] for m in mail.outbox}) == 7


def test_a_refused_address_is_asked_again_by_the_rerun(org, version, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    ids = roster(org, 3)
    REFUSED.add("p1@example.com")
    try:
        result = personal_links.batch_send(PolicyLinks(fresh(version)), ids)
    finally:
        REFUSED.clear()
    assert (result.sent, result.failed) == (2, 1)
    links = AcceptanceLink.objects.for_org(org).filter(version=version)
    # The refused token never left: its link is gone, the others are sent.
    assert sorted(links.values_list("person__email", flat=True)) == [
        "p0@example.com",
        "p2@example.com",
    ]
    assert not links.filter(sent_at__isnull=True).exists()
    again = personal_links.batch_send(PolicyLinks(fresh(version)), ids)
    assert (again.sent, again.failed) == (1, 0)
    assert [m.to[0] for m in mail.outbox] == ["p0@example.com", "p2@example.com", "p1@example.com"]
    assert links.count() == 3 and not links.filter(sent_at__isnull=True).exists()


def test_a_link_another_batch_is_sending_is_left_to_it(org, version):
    """Two assignments in a row plan overlapping batches: a link written and not sent yet is
    in flight (``IN_FLIGHT``); once that has run out, its batch died and it is replaced."""
    (pk,) = roster(org, 1)
    AcceptanceLink.objects.create(
        organization=org,
        person_id=pk,
        version=version,
        token_sha256="c" * 64,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    assert personal_links.batch_send(PolicyLinks(fresh(version)), [pk]).sent == 0
    assert mail.outbox == []
    links = AcceptanceLink.objects.for_org(org).filter(version=version)
    links.update(created_at=timezone.now() - personal_links.IN_FLIGHT - dt.timedelta(seconds=1))
    assert personal_links.batch_send(PolicyLinks(fresh(version)), [pk]).sent == 1
    assert links.count() == 1 and links.get().token_sha256 != "c" * 64


def test_a_batch_for_a_replaced_version_sends_nothing(org, manager, approver, version):
    ids = roster(org, 2)
    services.version_start(membership=manager, policy=version.policy)
    approve(manager, approver, version.policy)
    assert tasks.policy_links_batch(org.pk, version.pk, ids) == 0
    assert mail.outbox == []


def test_the_acceptance_overview_renders_in_constant_queries(org, manager, version, client_for):
    client = client_for(manager)
    page_url = reverse("policy_acceptance", kwargs={"org_slug": org.slug, "pk": version.policy_id})
    client.get(page_url)  # the session's first request loads what later ones cache
    counts = []
    for size, offset in ((3, 0), (60, 3)):
        ids = roster(org, size, offset)
        acceptances_bulk(org, version, ids[::2])
        with CaptureQueriesContext(db_connection) as queries:
            page = client.get(page_url)
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert b"32 of 63" in page.content
