"""Writing the activity log. Every write service calls ``activity_record`` inside its own
transaction, so a change and its log entry are committed together or not at all.

The log of each organization is a keyed hash chain: an entry's ``entry_hash`` is the
HMAC-SHA256, with a key from ``ACTIVITY_LOG_KEYS`` (``tenants.activity_keys``; ``key_id`` says
which), of a canonical JSON of its fields and ``prev_hash``, the ``entry_hash`` of the
organization's previous entry (by id; "" for the first). Writers lock the organization's row
first, so concurrent writers append one after the other and never fork the chain.
``chain_verify`` (``manage.py verify_activity_log``) recomputes it: a changed, deleted or
inserted row breaks it from that point, and since the database never holds the key, nobody who
can only write the database can re-chain what follows. What a re-chain cannot show, the
checkpoints do (``tenants.activity_checkpoints``): a tail cut off, or a chain replaced.
``actor`` (a user id, set to NULL when the user is deleted) is not part of the hash;
``actor_label`` is.

Entries written before the keys existed were chained with plain SHA-256 (``legacy_digest``).
Migration 0006 re-signs each organization's chain with the newest key, but only when its plain
chain was intact: a chain already broken keeps its plain hashes and no key id, and verification
reports its first such entry, so an upgrade never launders an earlier tampering. No plain link
is accepted after that: accepting them (even only before the first keyed entry) would let
whoever holds the database role replace a whole chain with plain-hashed entries.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from tenants.activity_keys import LogKey, key_for, same_digest, signing_key
from tenants.context import current_org_id, org_scope
from tenants.models import ActivityEntry, Organization

HASHED_FIELDS = (
    "organization_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "created_at",
    "prev_hash",
)


@dataclass(frozen=True)
class Actor:
    """Who performs a change: a signed-in user, an API key, or the system itself."""

    label: str
    user_id: int | None = None

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        return cls(label=user.email or user.get_username(), user_id=user.pk)

    @classmethod
    def for_principal(cls, principal: Any) -> Actor:
        """A membership (a person) or any principal with a ``label`` (an API key)."""
        user = getattr(principal, "user", None)
        if user is not None:
            return cls.for_user(user)
        return cls(label=principal.label)

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(label=what)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The values of ``fields`` on ``obj``, JSON-ready (foreign keys as ids)."""
    out: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        out[name] = _jsonable(getattr(obj, attname))
    return out


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for each field whose value changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def activity_record(
    *,
    organization: Organization,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    object_repr: str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> ActivityEntry:
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = target.pk if object_id is None else object_id
        object_repr = object_repr if object_repr is not None else str(target)
    entry = ActivityEntry(
        organization=organization,
        actor_id=actor.user_id,
        actor_label=actor.label[:200],
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:200],
        # As it will read back from the database (JSON), so the hash matches it.
        changes=json.loads(json.dumps(dict(changes or {}), cls=DjangoJSONEncoder)),
    )
    scope = nullcontext() if current_org_id() == organization.pk else org_scope(organization)
    with scope, transaction.atomic():
        # The organization's row is the chain's lock: the next writer waits for this commit.
        Organization.objects.select_for_update().filter(pk=organization.pk).exists()
        entry.prev_hash = chain_head(organization.pk)
        key = signing_key()
        entry.key_id = key.key_id
        entry.entry_hash = entry_digest(entry, key)
        entry.save()
    return entry


def _canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _canonical(entry: Any) -> bytes:
    """The canonical JSON of an entry's ``HASHED_FIELDS`` (sorted keys, UTC microseconds)."""
    data = {name: getattr(entry, name) for name in HASHED_FIELDS}
    data["created_at"] = _canonical_time(data["created_at"])
    data["object_id"] = str(data["object_id"])
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return canonical.encode()


def legacy_digest(entry: Any) -> str:
    """Plain SHA-256 (hex) of the canonical JSON: the chain before keys (migrations only)."""
    return hashlib.sha256(_canonical(entry)).hexdigest()


def entry_digest(entry: Any, key: LogKey | None = None) -> str:
    """HMAC-SHA256 (hex) of the canonical JSON, with ``key`` or the one ``entry.key_id`` names."""
    key = key or key_for(entry.key_id)
    if key is None:
        raise LookupError(f"no key with id {entry.key_id!r} in ACTIVITY_LOG_KEYS")
    return key.sign(_canonical(entry))


def chain_head(organization_id: int) -> str:
    """The ``entry_hash`` of the organization's newest entry ("" when it has none)."""
    newest = (
        ActivityEntry.objects.for_org(organization_id)
        .order_by("-id")
        .values_list("entry_hash", flat=True)
        .first()
    )
    return newest or ""


@dataclass(frozen=True)
class BrokenLink:
    entry_id: int
    created_at: dt.datetime | None  # None: the entry is gone (a checkpoint named it)
    problem: str

    def __str__(self) -> str:
        when = _canonical_time(self.created_at) if self.created_at else "missing"
        return f"entry {self.entry_id} ({when}): {self.problem}"


def _entry_problem(entry: ActivityEntry, expected_prev: str | None) -> str | None:
    """What is wrong with one entry (None: nothing). ``expected_prev=None``: not checked."""
    if expected_prev is not None and entry.prev_hash != expected_prev:
        return (
            "prev_hash does not match the previous entry's hash "
            "(an entry before it was deleted, inserted or rewritten)"
        )
    if not entry.key_id:
        return (
            "no key id: a plain SHA-256 entry (the upgrade to keyed hashes re-signed only "
            "chains that were intact, so this chain was broken before it) or a forged one"
        )
    key = key_for(entry.key_id)
    if key is None:
        return (
            f"signed with key id {entry.key_id}, which ACTIVITY_LOG_KEYS does not hold "
            "(a retired key must stay at the end of the list) or a forged entry"
        )
    if not same_digest(entry_digest(entry, key), entry.entry_hash):
        return "entry_hash does not match its contents (the entry was changed)"
    return None


def chain_verify(
    organization: Organization,
    *,
    pinned: Mapping[int, tuple[str, str]] | None = None,
    start: tuple[int, str] | None = None,
) -> tuple[int, BrokenLink | None]:
    """Walk the organization's chain in id order: (entries checked, first broken link).

    ``pinned`` maps entry ids to (the hash a checkpoint recorded, which checkpoint): each must
    be there with that hash. ``start`` (entry id, hash) walks only from that entry on, which
    must still be there with that hash (the newest checkpoint, when writing the next one).
    """
    expected = dict(pinned or {})
    expected_prev: str | None = ""
    checked = 0
    with org_scope(organization):
        rows = ActivityEntry.objects.for_org(organization).order_by("id")
        if start is not None:
            rows = rows.filter(id__gte=start[0])
            expected[start[0]] = (start[1], "the newest checkpoint")
            expected_prev = None  # the entry before the start is not read
        for entry in rows.iterator(chunk_size=2000):
            checked += 1
            problem = _entry_problem(entry, expected_prev)
            pin = expected.pop(entry.pk, None)
            if problem is None and pin is not None and entry.entry_hash != pin[0]:
                problem = (
                    f"its hash differs from the one {pin[1]} recorded (the chain was replaced)"
                )
            if problem is None and start is not None and checked == 1 and pin is None:
                problem = "the newest checkpoint's entry is gone (entries were deleted)"
            if problem is not None:
                return checked, BrokenLink(entry.pk, entry.created_at, problem)
            expected_prev = entry.entry_hash
    if expected:
        entry_id = min(expected)
        return checked, BrokenLink(
            entry_id,
            None,
            f"{expected[entry_id][1]} recorded it, but it is gone (entries were deleted)",
        )
    return checked, None
