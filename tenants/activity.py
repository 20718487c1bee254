"""Writing the activity log. Every write service calls ``activity_record`` inside its own
transaction, so a change and its log entry are committed together or not at all."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models

from tenants.models import ActivityEntry, Organization


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
        changes=dict(changes or {}),
    )
    entry.save()
    return entry
