"""The activity log as people read it: "Request for information PBC-2", not
``reports.inforequest``; "Owner: ana@example.com → bo@example.com", not ``owner: 2 → 7``.

Presentation only. The stored entries (``tenants.activity``: an HMAC-chained, append-only log)
are not changed, and the API keeps serving them raw. For a page of entries:

- the object: a label for its type (``TYPE_LABELS``, else the model's verbose name) and the
  ``object_repr`` recorded at the time, or, when none was, the object's current label;
- each change: the field's verbose name, and its values resolved: a choice to its label, a
  foreign key (or a list of ids, ``EXTRA_REFERENCES``) to the object's label (a member to their
  e-mail), a date to a date, a SHA-256 shortened with the full value kept for hover;
- a summary line, so that long changes can be collapsed behind it.

Ids are resolved in bulk: one query per kind of object referenced on the page, whatever the
number of entries (asserted in tests/tenants/test_activity_display.py). Lookups stay inside the
organization (``for_org``); an id that resolves to nothing (deleted, or not this
organization's) is shown as "#id".
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format

from tenants.models import ActivityEntry, Organization

# Object types, by model label; any other type reads as its model's verbose name.
TYPE_LABELS = {
    "reports.inforequest": "Request for information",
    "controls.control": "Control",
    "controls.audit": "Audit",
    "evidence.evidenceitem": "Evidence item",
    "evidence.evidenceversion": "Evidence",
    "evidence.digest": "Evidence digest",
    "tenants.membership": "Member",
    "tenants.invitation": "Invitation",
    "tenants.apikey": "API key",
    "tenants.organization": "Organization",
    "reports.report": "Report",
    "reports.auditoraccess": "Auditor access",
}

# What each action did, as a verb; any other reads as its last word ("report.done" → "Done").
ACTION_LABELS = {
    "create": "Created",
    "update": "Changed",
    "delete": "Deleted",
    "revoke": "Revoked",
    "remove": "Removed",
    "upload": "Uploaded",
    "add": "Added",
    "download": "Downloaded",
    "review": "Reviewed",
    "invite": "Invited",
    "join": "Joined",
    "notify": "Notified",
    "assess": "Assessed",
    "adopt": "Adopted",
    "upload.infected": "Refused an infected file",
    "request.raise": "Raised",
    "request.answer": "Answered",
    "request.accept": "Accepted",
    "request.reopen": "Reopened",
    "request.comment": "Commented on",
    "report.request": "Requested",
    "report.done": "Finished",
    "report.failed": "Failed",
    "report.retry": "Retried",
    "sample.draw": "Drew",
    "sample.exception": "Recorded an exception in",
    "sample.test": "Tested",
    "population.create": "Supplied",
    "auditor_access.grant": "Granted auditor access to",
    "auditor_access.revoke": "Revoked auditor access to",
    "request": "Requested",
    "nda_accept": "Accepted the NDA of",
    "approve": "Approved",
    "deny": "Denied",
    "publish": "Published",
    "publish_controls": "Chose the controls of",
    "withdraw": "Withdrew",
}

# Keys that are not fields of the object's model, with their label.
KEY_LABELS = {
    "effective": "Effective period",
    "same_file_as": "Same file as",
    "client_ip": "From address",
    "versions": "Evidence versions",
    "removed": "Removal reason",
    "criteria": "Criteria",
    "recipients": "Recipients",
    "signature": "Malware signature",
    "sha256": "SHA-256",
    "reason": "Reason",
    "error": "Error",
    "rows": "Rows",
}

# Keys holding ids of another model than a field says: (object type, key) → model label.
EXTRA_REFERENCES = {
    ("reports.inforequest", "versions"): "evidence.evidenceversion",
    ("evidence.digest", "versions"): "evidence.evidenceversion",
}

# Reprs recorded from a model's ``__str__`` that shows ids ("140 v1"): the current label reads
# better, and is resolved in the same bulk lookup.
ID_REPRS = {"evidence.evidenceversion": re.compile(r"^\d+ v\d+$")}

HASH = re.compile(r"\b[0-9a-f]{64}\b")
SHORT_HASH = 12
COLLAPSE_AFTER = 2  # more changes than this, or a long value: behind the summary
LONG_VALUE = 80


def _words(key: str) -> str:
    """``review_state`` → "Review state"; "CC1.1" stays as written."""
    text = key.replace("_", " ")
    return text[:1].upper() + text[1:]


def _user_label(user: Any) -> str:
    return user.email or user.get_username()


# How an object of a model reads, and what it needs loaded to say so.
LABELERS: dict[str, tuple[tuple[str, ...], Callable[[Any], str]]] = {
    "tenants.membership": (("user",), lambda m: _user_label(m.user)),
    "controls.control": ((), lambda c: f"{c.code} {c.title}"),
    "evidence.evidenceversion": (
        ("item__control",),
        lambda v: f"{v.item.control.code} · {v.item.title} v{v.number}",
    ),
}


@dataclass(frozen=True)
class Value:
    """A value as shown, with the full text for hover when it was shortened."""

    text: str
    full: str = ""


@dataclass(frozen=True)
class Change:
    label: str
    old: Value
    new: Value

    @property
    def is_addition(self) -> bool:
        return self.old.text == "—"


@dataclass
class EntryView:
    entry: ActivityEntry
    action: str
    object_label: str
    changes: list[Change] = field(default_factory=list)

    @property
    def summary(self) -> str:
        labels = [c.label for c in self.changes]
        if len(labels) <= 3:
            return ", ".join(labels)
        return f"{', '.join(labels[:2])} and {len(labels) - 2} more"

    @property
    def collapsed(self) -> bool:
        if len(self.changes) > COLLAPSE_AFTER:
            return True
        return any(len(c.old.text) + len(c.new.text) > LONG_VALUE for c in self.changes)


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def type_label(object_type: str) -> str:
    if object_type in TYPE_LABELS:
        return TYPE_LABELS[object_type]
    model = _model(object_type)
    if model is not None:
        return _words(str(model._meta.verbose_name))
    return _words(object_type.rsplit(".", 1)[-1])


def action_label(action: str) -> str:
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return _words(action.rsplit(".", 1)[-1])


def _field(model: type[models.Model] | None, key: str) -> models.Field | None:
    if model is None:
        return None
    try:
        found = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def _ids(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


class _References:
    """Ids to look up, by model label, then their labels: one query per model."""

    def __init__(self, organization: Organization | int):
        self.org = organization
        self.wanted: dict[str, set[int]] = defaultdict(set)
        self.labels: dict[str, dict[int, str]] = {}

    def want(self, model_label: str, value: Any) -> None:
        self.wanted[model_label].update(_ids(value))

    def resolve(self) -> None:
        for label, ids in self.wanted.items():
            self.labels[label] = self._load(label, ids) if ids else {}

    def _load(self, label: str, ids: set[int]) -> dict[int, str]:
        model = _model(label)
        if model is None:
            return {}
        if model is get_user_model():
            # Only people of this organization: a user id never reveals another one's member.
            rows = model.objects.filter(pk__in=ids, memberships__organization=self.org).distinct()
            return {u.pk: _user_label(u) for u in rows}
        related, labeler = LABELERS.get(label, ((), str))
        manager = model._default_manager
        rows = manager.for_org(self.org) if hasattr(manager, "for_org") else manager.all()
        if related:
            rows = rows.select_related(*related)
        return {obj.pk: labeler(obj) for obj in rows.filter(pk__in=ids)}

    def label(self, model_label: str, pk: int) -> str:
        return self.labels.get(model_label, {}).get(pk, f"#{pk}")


def _text(value: Any) -> Value:
    if value is None or value == "" or value == []:
        return Value("—")
    if isinstance(value, bool):
        return Value("Yes" if value else "No")
    if isinstance(value, list):
        parts = [_text(v) for v in value]
        text = ", ".join(p.text for p in parts)
        full = ", ".join(p.full or p.text for p in parts)
        return Value(text, full if full != text else "")
    if isinstance(value, dict):
        return _text([f"{k}: {v}" for k, v in value.items()])
    text = str(value)
    short = HASH.sub(lambda m: m.group(0)[:SHORT_HASH] + "…", text)
    return Value(short, text if short != text else "")


def _date_text(value: Any) -> Value | None:
    if not isinstance(value, str):
        return None
    if len(value) == 10:
        day = parse_date(value)
        return Value(date_format(day, "j M Y")) if isinstance(day, dt.date) else None
    moment = parse_datetime(value)
    if moment is not None:
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return Value(date_format(moment, "j M Y H:i"), value)
    return None


class _Presenter:
    def __init__(self, organization: Organization | int):
        self.refs = _References(organization)

    def _reference(self, object_type: str, key: str) -> str | None:
        """The model label a key's ids point to, if they do."""
        if (object_type, key) in EXTRA_REFERENCES:
            return EXTRA_REFERENCES[(object_type, key)]
        found = _field(_model(object_type), key)
        if found is not None and found.is_relation and found.related_model is not None:
            return found.related_model._meta.label_lower
        return None

    def collect(self, entry: ActivityEntry) -> None:
        if _needs_name(entry) and entry.object_id.isdigit() and _model(entry.object_type):
            self.refs.want(entry.object_type, int(entry.object_id))
        for key, values in _pairs(entry):
            target = self._reference(entry.object_type, key)
            if target is not None:
                for value in values:
                    self.refs.want(target, value)

    def value(self, object_type: str, key: str, value: Any) -> Value:
        if value is None:
            return Value("—")
        target = self._reference(object_type, key)
        if target is not None and _ids(value):
            return _text([self.refs.label(target, pk) for pk in _ids(value)])
        found = _field(_model(object_type), key)
        if found is not None and found.choices:
            choices = {str(k): str(v) for k, v in found.flatchoices}
            if str(value) in choices:
                return Value(choices[str(value)])
        if isinstance(found, models.DateField | models.DateTimeField) or key.endswith("_at"):
            dated = _date_text(value)
            if dated is not None:
                return dated
        return _text(value)

    def label(self, object_type: str, key: str) -> str:
        if key in KEY_LABELS:
            return KEY_LABELS[key]
        found = _field(_model(object_type), key)
        if found is not None:
            return _words(str(found.verbose_name))
        return _words(key)

    def present(self, entry: ActivityEntry) -> EntryView:
        kind = entry.object_type
        name = entry.object_repr
        if _needs_name(entry) and entry.object_id:
            pk = int(entry.object_id) if entry.object_id.isdigit() else None
            found = self.refs.labels.get(kind, {}).get(pk) if pk is not None else None
            name = found or entry.object_repr or f"#{entry.object_id}"
        object_label = " ".join(part for part in (type_label(kind) if kind else "", name) if part)
        changes = [
            Change(
                self.label(kind, key),
                self.value(kind, key, values[0]),
                self.value(kind, key, values[1]),
            )
            for key, values in _pairs(entry)
        ]
        return EntryView(entry, action_label(entry.action), object_label, changes)


def _needs_name(entry: ActivityEntry) -> bool:
    """No repr was recorded, or one made of ids: show the object's current label."""
    pattern = ID_REPRS.get(entry.object_type)
    return not entry.object_repr or bool(pattern and pattern.match(entry.object_repr))


def _pairs(entry: ActivityEntry) -> Iterable[tuple[str, list[Any]]]:
    """``{key: [old, new]}`` as stored; anything else (a hand-written shape) as a new value."""
    if not isinstance(entry.changes, dict):
        return []
    return [
        (str(key), list(v) if isinstance(v, list) and len(v) == 2 else [None, v])
        for key, v in entry.changes.items()
    ]


def present_entries(
    entries: Iterable[ActivityEntry], organization: Organization | int
) -> list[EntryView]:
    """The entries (of ``organization``) ready to show, ids resolved in bulk."""
    entries = list(entries)
    presenter = _Presenter(organization)
    for entry in entries:
        presenter.collect(entry)
    presenter.refs.resolve()
    return [presenter.present(entry) for entry in entries]
