"""The activity log's hash chain (``tenants.activity``) and ``verify_activity_log``."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from tenants.activity import chain_verify, entry_digest, legacy_digest
from tenants.activity_keys import signing_key
from tenants.models import ActivityEntry
from tests.tenants.activity_tamper import as_owner, record, tamper_sql


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_activity_log", *args, stdout=out)
    return out.getvalue()


def test_entries_link_to_the_previous_entry_of_their_organization(org, other_org):
    first, second = record(org, 2)
    theirs = record(other_org, 1)[0]
    assert first.prev_hash == "" and theirs.prev_hash == ""
    assert second.prev_hash == first.entry_hash
    assert len(second.entry_hash) == 64
    stored = ActivityEntry.objects.for_org(org).get(pk=second.pk)
    assert entry_digest(stored) == stored.entry_hash  # the hash survives the round trip


def test_an_intact_chain_verifies(org, other_org):
    record(org, 4)
    record(other_org, 2)
    out = _verify()
    assert "acme-test: intact (4 entries, 0 checkpoints)" in out
    assert "globex-test: intact (2 entries, 0 checkpoints)" in out
    assert "acme-test: intact" in _verify("--org", org.slug)


def test_a_changed_entry_is_caught_at_that_entry(org, other_org):
    entries = record(org, 5)
    record(other_org, 2)
    tamper_sql(
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
    entries = record(org, 5)
    tamper_sql("DELETE FROM tenants_activityentry WHERE id = %s", [entries[2].pk])
    _, link = chain_verify(org)
    assert link.entry_id == entries[3].pk
    assert "prev_hash does not match" in link.problem
    with pytest.raises(CommandError):
        _verify("--org", org.slug)


def test_rewriting_a_hash_too_breaks_the_next_link(org):
    entries = record(org, 3)
    tamper_sql(
        "UPDATE tenants_activityentry SET action = 'delete', entry_hash = %s WHERE id = %s",
        ["0" * 64, entries[1].pk],
    )
    assert chain_verify(org)[1].entry_id == entries[1].pk


def test_an_unknown_organization_is_a_one_line_error(db):
    with pytest.raises(CommandError, match="no organization with slug 'nope'"):
        _verify("--org", "nope")


def _migration(name: str):  # noqa: ANN202
    import importlib

    return importlib.import_module(f"tenants.migrations.{name}")


def _run(function) -> None:  # noqa: ANN001
    """A migration's RunPython function, as ``migrate`` runs it (as the owner)."""
    from django.apps import apps

    with as_owner():
        function(apps, type("Editor", (), {"connection": connection})())


def _make_legacy(org) -> None:
    """The chain as releases before keyed hashes left it: plain SHA-256, no key id."""
    tamper_sql("UPDATE tenants_activityentry SET prev_hash = '', entry_hash = '', key_id = ''", [])
    _run(_migration("0003_activity_hash_chain").backfill)


def test_the_upgrade_re_signs_an_intact_plain_chain_with_the_key(org, other_org):
    entries = record(org, 3)
    record(other_org, 2)
    _make_legacy(org)
    _, link = chain_verify(org)
    assert "no key id: a plain SHA-256 entry" in link.problem  # plain links are not accepted
    _run(_migration("0006_activity_keyed_chain").resign)
    assert chain_verify(org) == (3, None) and chain_verify(other_org) == (2, None)
    stored = ActivityEntry.objects.for_org(org).get(pk=entries[0].pk)
    assert stored.key_id == signing_key().key_id and stored.entry_hash == entries[0].entry_hash


def test_the_upgrade_does_not_launder_a_chain_broken_before_it(org, other_org):
    entries = record(org, 4)
    record(other_org, 2)
    _make_legacy(org)
    tamper_sql("DELETE FROM tenants_activityentry WHERE id = %s", [entries[1].pk])
    _run(_migration("0006_activity_keyed_chain").resign)
    _, link = chain_verify(org)
    assert link.entry_id == entries[0].pk and "no key id" in link.problem
    assert chain_verify(other_org) == (2, None)  # the other organization's chain is re-signed


def test_migrating_back_and_forth_keeps_a_chain_intact(org):
    entries = record(org, 3)
    migration = _migration("0006_activity_keyed_chain")
    _run(migration.unsign)  # back to 0005: plain SHA-256, which the code before it verifies
    stored = list(ActivityEntry.objects.for_org(org).order_by("id"))
    assert [e.key_id for e in stored] == ["", "", ""]
    assert stored[1].prev_hash == stored[0].entry_hash == legacy_digest(stored[0])
    _run(migration.resign)
    assert chain_verify(org) == (3, None)
    assert ActivityEntry.objects.for_org(org).get(pk=entries[2].pk).entry_hash == (
        entries[2].entry_hash
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_unbroken_chain(org, other_org):
    writers, each = 6, 8
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(target) -> None:  # noqa: ANN001
        try:
            barrier.wait()
            record(target, each)
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
