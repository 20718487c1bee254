"""Write services for monitoring connections: adding, changing and removing them (owners and
admins). Credentials are encrypted at rest and never logged: the activity log records that they
changed, not what they are. Re-exported by ``monitoring.services``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from controls.models import System
from monitoring.config import config_clean
from monitoring.models import CheckRun, Connection, ConnectionKind, ConnectionSystem, Schedule
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action

MAX_CREDENTIALS = 8192
MAX_CONNECTIONS = 50
# How often the schedule runs a connection (``monitoring.runs.runs_start_due``).
SCHEDULE_EVERY = {Schedule.DAILY: dt.timedelta(days=1), Schedule.WEEKLY: dt.timedelta(days=7)}


def next_run_at(connection: Connection, *, after: dt.datetime | None = None) -> dt.datetime | None:
    """When the schedule next starts ``connection``: ``after`` (a run's start) plus its
    interval; without ``after``, now (a new or newly scheduled connection runs at the next
    beat). Never for manual schedules and pushed (custom) connections."""
    every = SCHEDULE_EVERY.get(connection.schedule)
    if every is None or connection.kind == ConnectionKind.CUSTOM:
        return None
    return after + every if after is not None else timezone.now()


def _systems(org: Organization, ids: Iterable[int]) -> list[System]:
    ids = sorted(set(ids))
    found = list(System.objects.for_org(org).filter(pk__in=ids)) if ids else []
    if len(found) != len(ids):
        raise ValidationFailed("Choose systems of this organization.", field="systems")
    return found


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the connection a name.", field="name")
    if len(name) > 120:
        raise ValidationFailed("Keep the name under 120 characters.", field="name")
    return name


def _clean_kind(kind: str) -> str:
    # A kind whose collector is not installed here may still be added (the API, a
    # deployment about to install it): its runs say so, and it takes no settings.
    if kind not in ConnectionKind.values:
        raise ValidationFailed("Choose a kind of connection.", field="kind")
    return kind


def _clean_credentials(credentials: str) -> str:
    if len(credentials or "") > MAX_CREDENTIALS:
        raise ValidationFailed("Credentials are too long (8 KB at most).", field="credentials")
    return credentials or ""


def connection_create(
    *,
    membership: Membership,
    kind: str,
    name: str,
    systems: Sequence[int] = (),
    credentials: str = "",
    schedule: str = Schedule.DAILY,
    enabled: bool = True,
    config: Mapping[str, Any] | None = None,
) -> Connection:
    """A new connection. Only owners and admins (and admin keys) manage connections. Its
    ``config`` is cleaned against its kind's settings (``monitoring.config``)."""
    permissions.require(membership, Action.CONNECTION_MANAGE)
    org = membership.organization
    kind = _clean_kind(kind)
    config = config_clean(kind, config)
    if schedule not in Schedule.values:
        raise ValidationFailed("Choose a schedule.", field="schedule")
    name = _clean_name(name)
    chosen = _systems(org, systems)
    if Connection.objects.for_org(org).count() >= MAX_CONNECTIONS:
        raise ValidationFailed(f"An organization can have at most {MAX_CONNECTIONS} connections.")
    connection = Connection(
        organization=org,
        kind=kind,
        name=name,
        credentials=_clean_credentials(credentials),
        schedule=schedule,
        enabled=enabled,
        config=config,
        created_by=getattr(membership, "user", None) or getattr(membership, "created_by", None),
    )
    connection.next_run_at = next_run_at(connection)
    try:
        with transaction.atomic():
            connection.save()
            ConnectionSystem.objects.bulk_create(
                ConnectionSystem(organization=org, connection=connection, system=s) for s in chosen
            )
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="create",
                target=connection,
                # Credentials never reach the log: only whether some were given.
                changes={
                    "kind": [None, kind],
                    "schedule": [None, schedule],
                    "config": [None, config],
                    "systems": [None, [s.name for s in chosen]],
                    "credentials": [None, "set" if credentials else "none"],
                },
            )
    except IntegrityError as exc:
        raise ValidationFailed("A connection already has this name.", field="name") from exc
    return connection


def connection_update(
    *, membership: Membership, connection: Connection, **changes: Any
) -> Connection:
    """Change a connection's name, systems, credentials (replaced, never shown), settings
    (``config``, cleaned for its kind), schedule (the next scheduled run moves: at once when
    it had none, else one new interval after the latest run) or whether it runs."""
    permissions.require(membership, Action.CONNECTION_MANAGE)
    org = membership.organization
    logged: dict[str, list[Any]] = {}
    if "name" in changes:
        name = _clean_name(changes["name"])
        if name != connection.name:
            logged["name"] = [connection.name, name]
            connection.name = name
    if "schedule" in changes:
        if changes["schedule"] not in Schedule.values:
            raise ValidationFailed("Choose a schedule.", field="schedule")
        if changes["schedule"] != connection.schedule:
            logged["schedule"] = [connection.schedule, changes["schedule"]]
            connection.schedule = changes["schedule"]
            runs = CheckRun.objects.for_org(org).filter(connection=connection)
            last = runs.order_by("-started_at").values_list("started_at", flat=True).first()
            connection.next_run_at = next_run_at(connection, after=last)
    if "config" in changes:
        config = config_clean(connection.kind, changes["config"])
        if config != connection.config:
            logged["config"] = [connection.config, config]
            connection.config = config
    if "enabled" in changes and bool(changes["enabled"]) != connection.enabled:
        logged["enabled"] = [connection.enabled, bool(changes["enabled"])]
        connection.enabled = bool(changes["enabled"])
    if "credentials" in changes:
        connection.credentials = _clean_credentials(changes["credentials"])
        logged["credentials"] = ["hidden", "replaced"]
    chosen = _systems(org, changes["systems"]) if "systems" in changes else None
    try:
        with transaction.atomic():
            connection.save()
            if chosen is not None:
                links = ConnectionSystem.objects.for_org(org).filter(connection=connection)
                links.delete()
                ConnectionSystem.objects.bulk_create(
                    ConnectionSystem(organization=org, connection=connection, system=s)
                    for s in chosen
                )
                logged["systems"] = [None, [s.name for s in chosen]]
            if logged:
                activity_record(
                    organization=org,
                    actor=Actor.for_principal(membership),
                    action="update",
                    target=connection,
                    changes=logged,
                )
    except IntegrityError as exc:
        raise ValidationFailed("A connection already has this name.", field="name") from exc
    return connection


def connection_delete(*, membership: Membership, connection: Connection) -> None:
    """Remove a connection with its checks, runs, results and findings (the log keeps it)."""
    permissions.require(membership, Action.CONNECTION_MANAGE)
    org = membership.organization
    with transaction.atomic():
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="delete",
            target=connection,
        )
        Connection.objects.for_org(org).filter(pk=connection.pk).delete()


# ---- ingestion ---------------------------------------------------------------------------
