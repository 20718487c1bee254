"""The ``is_latest`` flag the freshness scan walks: exactly one per item, the newest, kept by
every insert (services and direct rows alike), backfilled by migration 0003, and right under
two concurrent submissions (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from evidence import services
from evidence.freshness import freshness_update
from evidence.models import EvidenceVersion
from evidence.selectors import live_versions
from tenants import rls
from tests.factories import evidence_row

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def _latest(item) -> list[int]:
    """Numbers of the item's versions flagged latest."""
    return list(
        EvidenceVersion.objects.for_org(item.organization_id)
        .filter(item=item, is_latest=True)
        .values_list("number", flat=True)
    )


def _link(membership, control, item=None, n=0):
    return services.evidence_add_link(
        membership=membership,
        control=control,
        url=f"https://evidence.example.com/{n}",
        effective_start=TODAY - DAY,
        item=item,
        title="" if item else f"Evidence {n}",
    )


@pytest.mark.django_db
def test_each_new_version_takes_the_flag_from_the_previous_one(contributor, control):
    first = _link(contributor, control)
    other = _link(contributor, control, n=9)
    assert _latest(first.item) == [1]
    for n in range(2, 5):
        _link(contributor, control, item=first.item, n=n)
        assert _latest(first.item) == [n]
    assert _latest(other.item) == [1]  # another item's latest is left alone
    live = live_versions(EvidenceVersion.objects.for_org(control.organization_id))
    assert sorted(live.values_list("item_id", "number")) == sorted(
        [(first.item_id, 4), (other.item_id, 1)]
    )


@pytest.mark.django_db
def test_rows_written_directly_keep_the_flag_too(control):
    old = evidence_row(control, TODAY - 100 * DAY, valid_until=TODAY - DAY)
    new = evidence_row(control, TODAY - DAY, valid_until=TODAY + 100 * DAY, item=old.item)
    assert _latest(old.item) == [new.number]
    old.refresh_from_db()
    assert old.is_latest is False


@pytest.mark.django_db
def test_saving_an_older_version_later_never_writes_the_flag_back(manager, contributor, control):
    first = _link(contributor, control)
    stale_copy = EvidenceVersion.objects.for_org(first.organization_id).get(pk=first.pk)
    _link(contributor, control, item=first.item, n=2)
    assert stale_copy.is_latest is True  # loaded before version 2 existed
    services.evidence_review(membership=manager, version=stale_copy, decision="accepted")
    stale_copy.review_comment = "checked"
    stale_copy.save()  # a full save of the old copy
    assert _latest(first.item) == [2]


@pytest.mark.django_db
def test_two_latest_versions_of_one_item_are_refused(contributor, control):
    first = _link(contributor, control)
    _link(contributor, control, item=first.item, n=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        EvidenceVersion.objects.for_org(first.organization_id).filter(pk=first.pk).update(
            is_latest=True
        )


@pytest.mark.django_db
def test_the_scan_follows_the_flag_to_the_new_version(org, contributor, control):
    old = evidence_row(control, TODAY - 200 * DAY, valid_until=TODAY - DAY)
    assert freshness_update(organization=org, today=TODAY) == {org.pk: {"stale": 1}}
    _link(contributor, control, item=old.item, n=2)  # fresh evidence replaces it
    assert freshness_update(organization=org, today=TODAY) == {}
    assert freshness_update(organization=org, today=TODAY + 400 * DAY) == {org.pk: {"stale": 1}}
    states = dict(
        EvidenceVersion.objects.for_org(org)
        .filter(item=old.item)
        .values_list("number", "freshness")
    )
    assert states == {1: "stale", 2: "stale"}


@pytest.mark.django_db
def test_the_migration_backfill_flags_the_newest_version_of_each_item(control, foreign_control):
    rows = [evidence_row(control, TODAY - DAY) for _ in range(3)]
    for _ in range(2):
        evidence_row(control, TODAY - DAY, item=rows[0].item)
    evidence_row(foreign_control, TODAY - DAY)
    everything = EvidenceVersion.objects.dangerously_unscoped(reason="test")
    expected = set(everything.filter(is_latest=True).values_list("pk", flat=True))
    everything.update(is_latest=False)
    migration = importlib.import_module("evidence.migrations.0003_is_latest")
    with rls.system("test: migrations run as a role that bypasses row-level security"):
        migration.backfill(apps, SimpleNamespace(connection=connection))
    assert set(everything.filter(is_latest=True).values_list("pk", flat=True)) == expected
    assert len(expected) == 4 and _latest(rows[0].item) == [3]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submissions_leave_one_latest_version(contributor, control):
    item = _link(contributor, control).item
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def submit(n: int) -> None:
        try:
            start.wait()
            _link(contributor, control, item=item, n=n)
        except BaseException as exc:  # surfaced below, with the thread's connection closed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    numbers = EvidenceVersion.objects.for_org(item.organization_id).filter(item=item)
    assert sorted(numbers.values_list("number", flat=True)) == [1, 2, 3]
    assert _latest(item) == [3]
