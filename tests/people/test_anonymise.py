"""Anonymising a leaver after the retention period: refused too early and for non-leavers,
what is replaced and what is kept, the acceptance and training records losing only their IP
address and user agent, links gone, roles, other organizations, idempotence, the activity
entry; and on PostgreSQL, the triggers admitting that one update and nothing else."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from people import anonymise, services
from people.models import Person
from policies.acceptance import member_person
from policies.models import Acceptance, AcceptanceLink
from soc2app.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from tenants.models import ActivityEntry
from tests.people.anonymise_world import CERT_SHA, MODULE_SHA, RETENTION, records_for, world
from tests.policies.conftest import adopted, approver, library
from tests.training.conftest import module
from training.models import TrainingCompletion, TrainingLink

pytestmark = pytest.mark.django_db

__all__ = ["adopted", "approver", "library", "module", "world"]  # fixtures


def _entries(org):
    return ActivityEntry.objects.for_org(org).filter(action="person.anonymise")


def test_a_person_who_has_not_left_or_left_too_recently_is_refused(org, manager, world):
    with pytest.raises(Conflict, match="Cy Current has not left") as caught:
        anonymise.person_anonymise(membership=manager, person=world.cy)
    assert caught.value.code == "not_a_leaver"
    # Tom left exactly RETENTION days ago: today is the last day his data is kept.
    first = world.tom.end_date + dt.timedelta(days=RETENTION + 1)
    with pytest.raises(Conflict, match=f"anonymised from {first:%-d %b %Y}") as caught:
        anonymise.person_anonymise(membership=manager, person=world.tom)
    assert caught.value.code == "retention_not_over" and caught.value.status == 409
    for person in (world.cy, world.tom):
        fresh = Person.objects.for_org(org).get(pk=person.pk)
        assert fresh.anonymised_at is None and fresh.full_name == person.full_name
        assert world.acceptance(person).ip_address == "203.0.113.7"
        assert AcceptanceLink.objects.for_org(org).filter(person=person).exists()
    assert not _entries(org).exists()
    # The next day Tom is due.
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    done = anonymise.person_anonymise(membership=manager, person=world.tom, today=tomorrow)
    assert done.anonymised_at is not None


def test_after_retention_the_entry_is_replaced_and_the_records_keep_their_hashes(
    org, manager, contributor, world
):
    before = world.acceptance(world.ada), world.completion(world.ada)
    ada = anonymise.person_anonymise(membership=manager, person=world.ada)
    fresh = Person.objects.for_org(org).get(pk=world.ada.pk)
    assert fresh.full_name == f"Former person #{ada.pk}" == str(fresh)
    assert fresh.email == f"anonymised-{ada.pk}@anonymised.invalid"
    assert fresh.title == "" and fresh.manager_id is None and fresh.membership_id is None
    assert fresh.anonymised_at is not None
    # Kept: what the joiners' and leavers' populations and the figures are built from.
    assert (fresh.department, fresh.start_date, fresh.end_date) == (
        "Engineering",
        world.ada.start_date,
        world.ada.end_date,
    )
    # The member is no longer this person: nothing to accept in the app in their name.
    assert member_person(contributor) is None

    accepted, completed = world.acceptance(world.ada), world.completion(world.ada)
    assert accepted.ip_address is None and accepted.user_agent == ""
    for name in ("pk", "text_sha256", "consent", "accepted_at", "channel", "version_id"):
        assert getattr(accepted, name) == getattr(before[0], name), name
    assert completed.ip_address is None and completed.user_agent == ""
    assert (completed.certificate_sha256, completed.module_sha256) == (CERT_SHA, MODULE_SHA)
    for name in ("completed_on", "source", "recorded_at", "requirement_id"):
        assert getattr(completed, name) == getattr(before[1], name), name

    # Their links are gone; everyone else's records and links are untouched.
    assert not AcceptanceLink.objects.for_org(org).filter(person=world.ada).exists()
    assert not TrainingLink.objects.for_org(org).filter(person=world.ada).exists()
    for person in (world.tom, world.cy):
        assert world.acceptance(person).ip_address == "203.0.113.7"
        assert world.completion(person).user_agent == "Safari/17"
        assert AcceptanceLink.objects.for_org(org).filter(person=person).count() == 1
        assert TrainingLink.objects.for_org(org).filter(person=person).count() == 1
    assert Person.objects.for_org(org).get(pk=world.boss.pk).full_name == "Bea Boss"

    # One activity entry, by the manager, that never repeats the old name or address.
    entry = _entries(org).get()
    assert entry.object_id == str(ada.pk) and entry.object_repr == f"Former person #{ada.pk}"
    assert entry.actor_label == manager.user.email
    assert entry.changes["links_deleted"] == [None, 2]
    assert entry.changes["acceptances_ip_and_user_agent_cleared"] == [None, 1]
    assert entry.changes["training_completions_ip_and_user_agent_cleared"] == [None, 1]
    text = json.dumps([entry.object_repr, entry.changes]).lower()
    assert "ada" not in text and "lovelace" not in text and "analyst" not in text


def test_anonymising_again_changes_nothing_and_logs_nothing(org, manager, world):
    first = anonymise.person_anonymise(membership=manager, person=world.ada)
    again = anonymise.person_anonymise(membership=manager, person=world.ada)
    assert again.anonymised_at == first.anonymised_at
    assert _entries(org).count() == 1
    # The entry is closed: no change, no new last day, no delete.
    closed = "was anonymised: their entry cannot change"
    with pytest.raises(ValidationFailed, match=closed):
        services.person_update(membership=manager, person=again, title="Back")
    with pytest.raises(ValidationFailed, match=closed):
        services.person_end(membership=manager, person=again, end_date=dt.date(2024, 1, 1))
    with pytest.raises(ValidationFailed, match=closed):
        services.person_delete(membership=manager, person=again)
    assert Person.objects.for_org(org).get(pk=again.pk).end_date == world.ada.end_date
    # And the model still refuses to save a record, anonymised or not.
    with pytest.raises(ValueError, match="immutable"):
        world.acceptance(world.ada).save()
    with pytest.raises(ValueError, match="immutable"):
        world.completion(world.ada).save()


def test_only_managers_of_the_organization_anonymise(
    org, manager, contributor, auditor, outsider, world
):
    for member in (contributor, auditor):
        with pytest.raises(NotPermitted):
            anonymise.person_anonymise(membership=member, person=world.ada)
        with pytest.raises(NotPermitted):
            anonymise.people_anonymise_due(membership=member)
    with pytest.raises(NotFound):  # another organization's manager
        anonymise.person_anonymise(membership=outsider, person=world.ada)
    assert anonymise.people_anonymise_due(membership=outsider) == (0, 0)
    fresh = Person.objects.for_org(org).get(pk=world.ada.pk)
    assert fresh.anonymised_at is None and fresh.full_name == "Ada Lovelace"
    assert not _entries(org).exists() and not _entries(outsider.organization).exists()


def test_the_retention_period_is_a_setting(org, manager, add, settings):
    settings.PERSON_RETENTION_DAYS = 30
    today = timezone.localdate()
    gone = add("Gone", start_date=dt.date(2020, 1, 6), end_date=today - dt.timedelta(days=31))
    recent = add("Recent", start_date=dt.date(2020, 1, 6), end_date=today - dt.timedelta(days=30))
    assert list(anonymise.retention_due(org, today)) == [gone]
    anonymise.person_anonymise(membership=manager, person=gone)
    with pytest.raises(Conflict, match="kept for 30 days"):
        anonymise.person_anonymise(membership=manager, person=recent)


def test_everyone_due_is_anonymised_in_batches(org, manager, add, world):
    today = timezone.localdate()
    for i in range(2):
        add(f"Old{i}", start_date=dt.date(2018, 1, 1), end_date=dt.date(2019, 1, 1))
    assert anonymise.retention_due(org, today).count() == 3  # Ada and the two
    assert anonymise.people_anonymise_due(membership=manager, limit=2) == (2, 1)
    assert anonymise.people_anonymise_due(membership=manager, limit=2) == (1, 0)
    assert anonymise.people_anonymise_due(membership=manager) == (0, 0)
    assert _entries(org).count() == 3
    left = Person.objects.for_org(org).filter(anonymised_at__isnull=True)
    assert sorted(p.full_name for p in left) == ["Bea Boss", "Cy Current", "Tom Later"]


def test_the_query_count_does_not_grow_with_the_records(
    org, manager, add, world, django_assert_num_queries
):
    """Savepoint (1), lock the person (1), save them (1), delete their links (2), clear their
    records (2), the activity entry (savepoint, the chain's lock, its head, insert, release:
    5), release (1): 13, with one record of each kind or twenty."""
    many = add("Many", start_date=dt.date(2018, 1, 1), end_date=dt.date(2019, 1, 1))
    records_for(org, many, world.version, world.module, n=20)
    for person in (world.ada, many):
        with django_assert_num_queries(13):
            anonymise.person_anonymise(membership=manager, person=person)
    assert (
        TrainingCompletion.objects.for_org(org).filter(person=many, ip_address=None).count() == 20
    )


# --- PostgreSQL: the triggers ------------------------------------------------------------


def _refused(rows, **values) -> None:
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        rows.update(**values)


def _refused_delete(rows) -> None:
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        rows.delete()


@pytest.mark.postgres
def test_the_database_admits_only_clearing_ip_and_user_agent_of_an_anonymised_person(
    org, manager, world
):
    acceptances = Acceptance.objects.for_org(org)
    completions = TrainingCompletion.objects.for_org(org)
    # Not anonymised (a current person, a leaver past retention): nothing may change, not
    # even the clearing the service does.
    for person in (world.cy, world.ada):
        _refused(acceptances.filter(person=person), ip_address=None, user_agent="")
        _refused(completions.filter(person=person), ip_address=None, user_agent="")
    anonymise.person_anonymise(membership=manager, person=world.ada)
    theirs_a = acceptances.filter(person=world.ada)
    theirs_c = completions.filter(person=world.ada)
    # Anonymised: any other change is still refused, alone or alongside the clearing...
    _refused(theirs_a, ip_address="10.0.0.1")
    _refused(theirs_a, user_agent="curl")
    _refused(theirs_a, ip_address=None, user_agent="", text_sha256="0" * 64)
    _refused(theirs_a, consent="Something else")
    _refused(theirs_a, accepted_at=timezone.now())
    _refused(theirs_a, channel="app")
    _refused(theirs_a, person=world.cy)
    _refused(theirs_c, ip_address="10.0.0.1")
    _refused(theirs_c, ip_address=None, user_agent="", certificate_sha256="0" * 64)
    _refused(theirs_c, module_sha256="")
    _refused(theirs_c, completed_on=dt.date(2021, 1, 1))
    _refused(theirs_c, provider="changed")
    # ...and deletes, anonymised or not.
    for person in (world.ada, world.cy):
        _refused_delete(acceptances.filter(person=person))
        _refused_delete(completions.filter(person=person))
    # The clearing itself is admitted (running it again is a no-op the trigger lets through).
    assert theirs_a.update(ip_address=None, user_agent="") == 1
    assert theirs_c.update(ip_address=None, user_agent="") == 1
    # A current person's records are still whole.
    assert world.acceptance(world.cy).ip_address == "203.0.113.7"
    assert world.completion(world.cy).ip_address == "2001:db8::1"
    assert world.acceptance(world.ada).text_sha256 == "a" * 64


@pytest.mark.postgres
def test_an_anonymised_person_set_by_hand_does_not_open_other_persons_records(org, world):
    """The trigger looks at the record's own person: anonymising Ada (by any means) does
    not let Cy's records be cleared."""
    Person.objects.for_org(org).filter(pk=world.ada.pk).update(anonymised_at=timezone.now())
    _refused(Acceptance.objects.for_org(org).filter(person=world.cy), ip_address=None)
    _refused(
        TrainingCompletion.objects.for_org(org).filter(person=world.cy),
        ip_address=None,
        user_agent="",
    )
    assert Acceptance.objects.for_org(org).filter(person=world.ada).update(ip_address=None) == 1
