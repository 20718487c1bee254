"""The activity log's hash chain (``tenants.activity``) and ``verify_activity_log``."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from tenants import rls
from tenants.activity import Actor, activity_record, chain_verify, entry_digest
from tenants.models import ActivityEntry

ACTOR = Actor.system("test")


def _record(org, n: int) -> list[ActivityEntry]:
    return [
        activity_record(
            organization=org,
            actor=ACTOR,
            action="update",
            object_type="controls.control",
            object_id=i,
            changes={"status": ["draft", "implemented"], "n": [i, i + 1.5]},
        )
        for i in range(n)
    ]


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_activity_log", *args, stdout=out)
    return out.getvalue()


def _raw(sql: str, params: list) -> None:
    """Tampering, as someone with direct database access (the bypass, under the app role)."""
    with rls.system("test: tamper with the activity log") as system, system.cursor() as cursor:
        cursor.execute(sql, params)


def test_entries_link_to_the_previous_entry_of_their_organization(org, other_org):
    first, second = _record(org, 2)
    theirs = _record(other_org, 1)[0]
    assert first.prev_hash == "" and theirs.prev_hash == ""
    assert second.prev_hash == first.entry_hash
    assert len(second.entry_hash) == 64
    stored = ActivityEntry.objects.for_org(org).get(pk=second.pk)
    assert entry_digest(stored) == stored.entry_hash  # the hash survives the round trip


def test_an_intact_chain_verifies(org, other_org):
    _record(org, 4)
    _record(other_org, 2)
    out = _verify()
    assert "acme-test: intact (4 entries)" in out
    assert "globex-test: intact (2 entries)" in out
    assert "acme-test: intact" in _verify("--org", org.slug)


def test_a_changed_entry_is_caught_at_that_entry(org, other_org):
    entries = _record(org, 5)
    _record(other_org, 2)
    _raw(
        "UPDATE tenants_activityentry SET changes = %s WHERE id = %s",
        ['{"status": ["draft", "not_applicable"]}', entries[2].pk],
    )
    out = StringIO()
    with pytest.raises(CommandError, match="broken in 1 organization") as exc:
        call_command("verify_activity_log", stdout=out)
    assert exc.value.returncode == 1
    assert f"acme-test: BROKEN at entry {entries[2].pk} " in out.getvalue()
    assert "entry_hash does not match its contents" in out.getvalue()
    assert "globex-test: intact" in out.getvalue()
    _, link = chain_verify(org)
    assert link.entry_id == entries[2].pk and link.created_at == entries[2].created_at


def test_a_deleted_entry_is_caught_at_the_next_one(org):
    entries = _record(org, 5)
    _raw("DELETE FROM tenants_activityentry WHERE id = %s", [entries[2].pk])
    _, link = chain_verify(org)
    assert link.entry_id == entries[3].pk
    assert "prev_hash does not match" in link.problem
    with pytest.raises(CommandError):
        _verify("--org", org.slug)


def test_rewriting_a_hash_too_breaks_the_next_link(org):
    entries = _record(org, 3)
    _raw(
        "UPDATE tenants_activityentry SET action = 'delete', entry_hash = %s WHERE id = %s",
        ["0" * 64, entries[1].pk],
    )
    assert chain_verify(org)[1].entry_id == entries[1].pk


def test_an_unknown_organization_is_a_one_line_error(db):
    with pytest.raises(CommandError, match="no organization with slug 'nope'"):
        _verify("--org", "nope")


def test_the_migration_backfill_chains_existing_entries(org):
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("tenants.migrations.0003_activity_hash_chain").backfill
    entries = _record(org, 3)
    _raw("UPDATE tenants_activityentry SET prev_hash = '', entry_hash = ''", [])
    assert chain_verify(org)[1] is not None
    with rls.system("test: the migration runs as a role that bypasses row-level security"):
        backfill(apps, type("Editor", (), {"connection": connection})())
    assert chain_verify(org) == (3, None)
    assert ActivityEntry.objects.for_org(org).get(pk=entries[0].pk).entry_hash


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_unbroken_chain(org, other_org):
    writers, each = 6, 8
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(target) -> None:  # noqa: ANN001
        try:
            barrier.wait()
            _record(target, each)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=write, args=(org if i % 3 else other_org,)) for i in range(writers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    checked, link = chain_verify(org)
    assert link is None and checked == 4 * each
    checked, link = chain_verify(other_org)
    assert link is None and checked == 2 * each
