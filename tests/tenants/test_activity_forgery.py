"""Forging the activity log as someone who holds the database but not ``ACTIVITY_LOG_KEYS``:
each forgery that re-chains what it touched is caught by the keyed hashes, and what the chain
cannot show (a tail cut off, a chain rolled back) by the signed checkpoints outside it."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tenants.activity import chain_verify, entry_digest, legacy_digest
from tenants.activity_checkpoints import checkpoint_write, checkpoints_read, log_verify
from tenants.activity_keys import LogKey, key_id_of, signing_key
from tenants.tasks import write_activity_checkpoints
from tests.tenants.activity_tamper import rechain, record, tamper_sql

KEY_A = "a" * 16 + "-first-activity-log-key-0123456789"
KEY_B = "b" * 16 + "-second-activity-log-key-0123456789"


def _forged_hmac(entry) -> str:  # noqa: ANN001
    return entry_digest(entry, LogKey(entry.key_id, b"a guess at the key, 32+ characters"))


def _verify_out(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_activity_log", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.mark.parametrize("sign", [legacy_digest, _forged_hmac], ids=["sha256", "wrong-key"])
def test_forgery_1_an_edited_entry_re_chained_without_the_key_is_caught(org, sign):
    entries = record(org, 5)
    tamper_sql("UPDATE tenants_activityentry SET action = 'view' WHERE id = %s", [entries[2].pk])
    rechain(org, sign)
    _, link = chain_verify(org)
    # The first entry re-chained with a wrong hash function is the first one reported.
    assert link.entry_id == entries[0].pk
    assert "entry_hash does not match its contents" in link.problem
    out, error = _verify_out("--org", org.slug)
    assert error is not None and error.returncode == 1
    assert f"acme-test: BROKEN at entry {entries[0].pk} " in out


def test_forgery_1_a_plain_sha256_chain_without_key_ids_is_not_accepted(org):
    entries = record(org, 3)
    tamper_sql("UPDATE tenants_activityentry SET action = 'view' WHERE id = %s", [entries[1].pk])
    rechain(org, legacy_digest, key_id="")  # as the chain looked before keyed hashes
    _, link = chain_verify(org)
    assert link.entry_id == entries[0].pk and "no key id" in link.problem


@pytest.mark.parametrize("sign", [legacy_digest, _forged_hmac], ids=["sha256", "wrong-key"])
def test_forgery_2_a_deleted_entry_re_chained_without_the_key_is_caught(org, sign):
    entries = record(org, 5)
    tamper_sql("DELETE FROM tenants_activityentry WHERE id = %s", [entries[2].pk])
    rechain(org, sign)
    checked, link = chain_verify(org)
    assert link is not None and checked == 1
    assert "entry_hash does not match its contents" in link.problem


def test_forgery_3_a_cut_off_tail_is_caught_by_the_checkpoint(org, other_org):
    entries = record(org, 5)
    record(other_org, 2)
    assert write_activity_checkpoints() == 2  # the hourly beat job: one per organization
    # Cut the two newest entries: what remains is a valid keyed chain...
    tamper_sql(
        "DELETE FROM tenants_activityentry WHERE id IN (%s, %s)", [entries[3].pk, entries[4].pk]
    )
    assert chain_verify(org) == (3, None)
    # ...which the application even keeps appending to (a rollback of the log).
    record(org, 2)
    assert chain_verify(org) == (5, None)
    result = log_verify(org)
    assert result.checkpoints == 1
    assert result.problem.startswith(f"entry {entries[4].pk} (missing): checkpoint ")
    assert "recorded it, but it is gone (entries were deleted)" in result.problem
    out, error = _verify_out()
    assert error is not None and "broken in 1 organization(s): acme-test" in str(error)
    assert "globex-test: intact (2 entries, 1 checkpoints)" in out
    # The next checkpoint refuses to seal the rolled-back chain.
    refused = checkpoint_write(org)
    assert refused.checkpoint is None and "newest checkpoint" in refused.problem


def test_forgery_3_a_replaced_chain_is_caught_by_the_checkpoint(org):
    entries = record(org, 3)
    checkpoint_write(org)
    # The whole chain rewritten with different content by someone who knew the key then:
    # the checkpoint still holds the old head's hash.
    tamper_sql(
        "UPDATE tenants_activityentry SET object_repr = 'rewritten' WHERE id = %s",
        [entries[0].pk],
    )
    rechain(org, entry_digest)
    assert chain_verify(org) == (3, None)
    problem = log_verify(org).problem
    assert problem.startswith(f"entry {entries[2].pk} (")
    assert "its hash differs from the one checkpoint" in problem


def test_checkpoints_are_written_once_per_head_and_never_overwritten(org, settings):
    record(org, 2)
    first = checkpoint_write(org).checkpoint
    assert checkpoint_write(org).checkpoint is None  # nothing new: nothing written
    record(org, 1)
    second = checkpoint_write(org).checkpoint
    assert first.name != second.name and first.entry_id < second.entry_id
    found, problems = checkpoints_read(org)
    assert [cp.entry_id for cp in found] == [first.entry_id, second.entry_id] and not problems
    folder = Path(settings.STORAGES["activity_checkpoints"]["OPTIONS"]["location"])
    stored = json.loads((folder / first.name).read_text())
    assert stored["entry_hash"] == first.entry_hash and stored["key_id"] == signing_key().key_id
    assert log_verify(org).problem is None


def test_a_forged_checkpoint_is_reported(org, settings):
    entries = record(org, 2)
    name = checkpoint_write(org).checkpoint.name
    path = Path(settings.STORAGES["activity_checkpoints"]["OPTIONS"]["location"]) / name
    data = json.loads(path.read_text())
    data["entry_id"] = entries[0].pk  # "the log ended earlier"
    path.write_text(json.dumps(data))
    assert log_verify(org).problem == (
        f"checkpoint {name}: the signature does not match (forged or altered)"
    )


def test_the_checkpoint_command_reports_what_it_wrote(org, other_org):
    record(org, 1)
    out = StringIO()
    call_command("checkpoint_activity_log", stdout=out)
    assert "acme-test: checkpoint at entry" in out.getvalue()
    assert "globex-test: unchanged" in out.getvalue()  # no entries: nothing to seal


def test_key_rotation_verifies_entries_of_the_old_and_the_new_key(org, settings):
    settings.ACTIVITY_LOG_KEYS = [KEY_A]
    old = record(org, 2)
    checkpoint_write(org)
    settings.ACTIVITY_LOG_KEYS = [KEY_B, KEY_A]  # the new key in front, the old one kept
    new = record(org, 2)
    assert {e.key_id for e in old} == {key_id_of(KEY_A)}
    assert {e.key_id for e in new} == {key_id_of(KEY_B)}
    assert new[0].prev_hash == old[-1].entry_hash  # one chain across the rotation
    assert checkpoint_write(org).checkpoint.key_id == key_id_of(KEY_B)
    result = log_verify(org)
    assert result.problem is None and (result.checked, result.checkpoints) == (4, 2)
    settings.ACTIVITY_LOG_KEYS = [KEY_B]  # the old key dropped too early
    problem = log_verify(org).problem
    assert f"signed with key id {key_id_of(KEY_A)}, which ACTIVITY_LOG_KEYS does not hold" in (
        problem
    )


def test_the_checkpoints_are_written_hourly_by_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["activity-log-checkpoints"]
    assert entry["task"] == write_activity_checkpoints.name
    assert entry["schedule"].minute == {7} and len(entry["schedule"].hour) == 24


def test_an_unreachable_checkpoint_storage_is_a_one_line_error(org, settings, tmp_path):
    record(org, 1)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the checkpoint folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "activity_checkpoints": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker)},
        },
    }
    with pytest.raises(CommandError, match="cannot write the activity log checkpoints: "):
        call_command("checkpoint_activity_log", stdout=StringIO())
    with pytest.raises(CommandError, match="cannot read the activity log checkpoints: "):
        call_command("verify_activity_log", stdout=StringIO())


def test_entries_no_checkpoint_covers_for_hours_are_a_warning(org):
    record(org, 2)
    assert log_verify(org).warning is None  # just written: the next hourly run covers them
    tamper_sql(
        "UPDATE tenants_activityentry SET created_at = created_at - interval '4 hours'"
        if connection.vendor == "postgresql"
        else "UPDATE tenants_activityentry SET created_at = datetime(created_at, '-4 hours')",
        [],
    )
    rechain(org, entry_digest)  # created_at is hashed: as if written four hours ago
    out, error = _verify_out("--org", org.slug)
    assert error is None and "acme-test: intact (2 entries, 0 checkpoints)" in out
    assert "acme-test: WARNING entries since " in out and "are in no checkpoint" in out
    checkpoint_write(org)
    assert log_verify(org).warning is None
