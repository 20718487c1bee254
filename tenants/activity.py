"""Writing the activity log. Every write service calls ``activity_record`` inside its own
transaction, so a change and its log entry are committed together or not at all.

The log of each organization is a hash chain: an entry's ``entry_hash`` is the SHA-256 of a
canonical JSON of its fields and ``prev_hash``, the ``entry_hash`` of the organization's
previous entry (by id; "" for the first). Writers lock the organization's row first, so
concurrent writers append one after the other and never fork the chain. ``chain_verify``
(``manage.py verify_activity_log``) recomputes it: a changed, deleted or inserted row breaks
it from that point. ``actor`` (a user id, set to NULL when the user is deleted) is not part
of the hash; ``actor_label`` is.
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
        entry.entry_hash = entry_digest(entry)
        entry.save()
    return entry


def _canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_digest(entry: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry's ``HASHED_FIELDS``."""
    data = {name: getattr(entry, name) for name in HASHED_FIELDS}
    data["created_at"] = _canonical_time(data["created_at"])
    data["object_id"] = str(data["object_id"])
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    created_at: dt.datetime
    problem: str

    def __str__(self) -> str:
        return f"entry {self.entry_id} ({_canonical_time(self.created_at)}): {self.problem}"


def chain_verify(organization: Organization) -> tuple[int, BrokenLink | None]:
    """Walk the organization's chain in id order: (entries checked, first broken link)."""
    expected_prev = ""
    checked = 0
    with org_scope(organization):
        rows = ActivityEntry.objects.for_org(organization).order_by("id")
        for entry in rows.iterator(chunk_size=2000):
            checked += 1
            if entry.prev_hash != expected_prev:
                return checked, BrokenLink(
                    entry.pk,
                    entry.created_at,
                    "prev_hash does not match the previous entry's hash "
                    "(an entry before it was deleted, inserted or rewritten)",
                )
            if entry_digest(entry) != entry.entry_hash:
                return checked, BrokenLink(
                    entry.pk,
                    entry.created_at,
                    "entry_hash does not match its contents (the entry was changed)",
                )
            expected_prev = entry.entry_hash
    return checked, None
