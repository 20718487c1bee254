"""Signed checkpoints of the activity log's chains, kept outside the database.

The keyed chain (``tenants.activity``) shows any changed, inserted or deleted entry that has a
successor, but not a tail cut off (the remaining chain is still valid) nor a chain rolled back
to an earlier state. So every hour (Celery beat, or ``manage.py checkpoint_activity_log``) the
newest entry of each organization's chain (id, hash, time) is written, signed with the log key
(HMAC-SHA256 over a canonical JSON), as one new object of the ``activity_checkpoints`` storage:
``<organization id>/<UTC time>-<entry id>.json``, never overwritten, on S3 under Object Lock
retention where the bucket has it (``tenants.checkpoint_storage``), else in a folder.
``verify_activity_log`` then requires each checkpoint's entry to be in the chain with the
recorded hash. Entries written since the newest checkpoint (at most an hour's) are covered by
the chain only.

A checkpoint is written only when the head moved (a second run writes nothing), and only after
the part of the chain since the previous checkpoint verifies: a broken chain is reported, not
sealed. Reading the log here needs no bypass of row-level security: each organization is read
in its own scope.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils import timezone

from tenants.activity import chain_verify
from tenants.activity_keys import key_for, same_digest, signing_key
from tenants.context import org_scope
from tenants.models import ActivityEntry, Organization

logger = logging.getLogger(__name__)
STORAGE_ALIAS = "activity_checkpoints"
FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    organization_id: int
    entry_id: int
    entry_hash: str
    written_at: str  # ISO 8601, UTC
    key_id: str
    name: str = field(default="", compare=False)

    def signed_fields(self) -> dict[str, object]:
        data = asdict(self)
        del data["name"]
        return {"format": FORMAT, **data}

    def label(self) -> str:
        return f"checkpoint {self.name or self.written_at}"


def _signature(data: dict[str, object], key_id: str) -> str | None:
    key = key_for(key_id)
    if key is None:
        return None
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return key.sign(b"activity-checkpoint:" + canonical.encode())


def checkpoint_storage() -> Storage:
    return storages[STORAGE_ALIAS]


def _names(storage: Storage, organization: Organization) -> list[str]:
    try:
        _, files = storage.listdir(str(organization.pk))
    except FileNotFoundError:  # a folder not created yet: no checkpoint so far
        return []
    return sorted(f"{organization.pk}/{name}" for name in files if name.endswith(".json"))


def _load(storage: Storage, name: str, organization: Organization) -> Checkpoint | str:
    """The checkpoint stored under ``name``, or what is wrong with it."""
    try:
        with storage.open(name) as handle:
            data = json.loads(handle.read())
        signature = data.pop("signature")
        checkpoint = Checkpoint(
            organization_id=int(data["organization_id"]),
            entry_id=int(data["entry_id"]),
            entry_hash=str(data["entry_hash"]),
            written_at=str(data["written_at"]),
            key_id=str(data["key_id"]),
            name=name,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"checkpoint {name} is unreadable ({exc.__class__.__name__}): altered or damaged"
    expected = _signature(checkpoint.signed_fields(), checkpoint.key_id)
    if expected is None:
        return (
            f"checkpoint {name} is signed with key id {checkpoint.key_id}, which "
            "ACTIVITY_LOG_KEYS does not hold (keep retired keys at the end of the list)"
        )
    if data != checkpoint.signed_fields() or not same_digest(expected, str(signature)):
        return f"checkpoint {name}: the signature does not match (forged or altered)"
    if checkpoint.organization_id != organization.pk:
        return f"checkpoint {name} is of another organization (moved)"
    return checkpoint


def checkpoints_read(organization: Organization) -> tuple[list[Checkpoint], list[str]]:
    """The organization's checkpoints, oldest first, and the problems of those that fail."""
    storage = checkpoint_storage()
    found: list[Checkpoint] = []
    problems: list[str] = []
    for name in _names(storage, organization):
        loaded = _load(storage, name, organization)
        (found if isinstance(loaded, Checkpoint) else problems).append(loaded)
    return found, problems


@dataclass(frozen=True)
class Verification:
    checked: int
    checkpoints: int
    problem: str | None
    # Not a break: entries older than ``UNSEALED_WARNING`` that no checkpoint covers (beat not
    # running, the storage failing, or checkpoints deleted from an unlocked storage).
    warning: str | None = None


# Checkpoints are hourly: an entry this old should be covered by one.
UNSEALED_WARNING = dt.timedelta(hours=3)


def _unsealed_warning(organization: Organization, newest: Checkpoint | None) -> str | None:
    with org_scope(organization):
        rows = ActivityEntry.objects.for_org(organization)
        if newest is not None:
            rows = rows.filter(id__gt=newest.entry_id)
        oldest = rows.order_by("id").values_list("created_at", flat=True).first()
    if oldest is None or timezone.now() - oldest < UNSEALED_WARNING:
        return None
    return (
        f"entries since {oldest:%Y-%m-%d %H:%M} UTC are in no checkpoint: is Celery beat "
        "running (checkpoint_activity_log), were checkpoints deleted?"
    )


def log_verify(organization: Organization) -> Verification:
    """The chain, verified with the keys and against every checkpoint: the first problem."""
    checkpoints, problems = checkpoints_read(organization)
    if problems:
        return Verification(0, len(checkpoints), problems[0])
    pinned = {cp.entry_id: (cp.entry_hash, cp.label()) for cp in checkpoints}
    checked, link = chain_verify(organization, pinned=pinned)
    if link is not None:
        return Verification(checked, len(checkpoints), str(link))
    newest = max(checkpoints, key=lambda cp: cp.entry_id, default=None)
    return Verification(checked, len(checkpoints), None, _unsealed_warning(organization, newest))


@dataclass(frozen=True)
class CheckpointResult:
    organization: Organization
    checkpoint: Checkpoint | None  # None: nothing new to seal, or refused (``problem``)
    problem: str | None = None


def checkpoint_write(organization: Organization) -> CheckpointResult:
    """Seal the organization's chain head in a new checkpoint, unless it is sealed already
    or the chain since the previous checkpoint does not verify."""
    with org_scope(organization):
        head = (
            ActivityEntry.objects.for_org(organization)
            .order_by("-id")
            .values_list("id", "entry_hash")
            .first()
        )
    if head is None:
        return CheckpointResult(organization, None)
    storage = checkpoint_storage()
    names = _names(storage, organization)
    previous = _load(storage, names[-1], organization) if names else None
    if isinstance(previous, str):
        return CheckpointResult(organization, None, previous)
    if previous is not None and (previous.entry_id, previous.entry_hash) == head:
        return CheckpointResult(organization, None)
    start = None if previous is None else (previous.entry_id, previous.entry_hash)
    _, link = chain_verify(organization, start=start)
    if link is not None:
        return CheckpointResult(organization, None, str(link))
    now = timezone.now().astimezone(dt.UTC)
    key = signing_key()
    checkpoint = Checkpoint(
        organization_id=organization.pk,
        entry_id=head[0],
        entry_hash=head[1],
        written_at=now.isoformat(timespec="microseconds"),
        key_id=key.key_id,
    )
    data = checkpoint.signed_fields()
    data["signature"] = _signature(data, key.key_id)
    name = f"{organization.pk}/{now:%Y%m%dT%H%M%S%fZ}-{head[0]}.json"
    # A name already taken (two runs in one microsecond) gets a suffix: nothing is replaced.
    stored = storage.save(name, ContentFile(json.dumps(data, indent=1).encode()))
    return CheckpointResult(organization, Checkpoint(**{**asdict(checkpoint), "name": stored}))


def checkpoints_write() -> list[CheckpointResult]:
    """A checkpoint for every organization whose chain moved (the hourly beat job)."""
    results = []
    for organization in Organization.objects.order_by("pk"):
        result = checkpoint_write(organization)
        if result.problem:
            logger.error(
                "activity log of %s not checkpointed: %s", organization.slug, result.problem
            )
        results.append(result)
    return results
