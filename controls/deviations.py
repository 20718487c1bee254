"""Deviations: recording that a control did not operate in a period, with the management
response. Managers write them (``control.manage``); everyone who can see the organization, and
its auditors in the portal, reads them. They appear in the readiness exceptions list."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from controls.models import Control, Deviation
from controls.selectors import _pk
from soc2app.errors import NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, snapshot
from tenants.models import Membership, Organization
from tenants.permissions import Action

FIELDS = (
    "period_start",
    "period_end",
    "what_happened",
    "cause",
    "remediation",
    "remediation_date",
)
MAX_TEXT = 4000


def deviations_list(org: Organization | int, control: Control | None = None) -> QuerySet:
    rows = Deviation.objects.for_org(org).select_related("control", "recorded_by__user")
    if control is not None:
        rows = rows.filter(control=control)
    return rows.order_by("control__code", "period_start", "id")


def deviation_get_for(org: Organization | int, pk: int | str) -> Deviation:
    """One deviation of ``org``; 404 for a missing id and another organization's alike."""
    found = deviations_list(org).filter(pk=_pk(pk, "No such deviation.")).first()
    if found is None:
        raise Http404("No such deviation.")
    return found


def _clean(values: dict) -> dict:
    for name in ("what_happened", "cause", "remediation"):
        text = (values.get(name) or "").strip()
        if not text:
            label = name.replace("_", " ")
            raise ValidationFailed(f"Say {label}: the report shows it.", field=name)
        if len(text) > MAX_TEXT:
            raise ValidationFailed(f"Keep it under {MAX_TEXT} characters.", field=name)
        values[name] = text
    start, end = values.get("period_start"), values.get("period_end")
    if not isinstance(start, dt.date):
        raise ValidationFailed("Give the first day of the period.", field="period_start")
    if not isinstance(end, dt.date):
        raise ValidationFailed("Give the last day of the period.", field="period_end")
    if end < start:
        raise ValidationFailed("The period must end on or after its start.", field="period_end")
    when = values.get("remediation_date")
    if when is not None and not isinstance(when, dt.date):
        raise ValidationFailed("Give the remediation date as a date.", field="remediation_date")
    return values


def _log(membership: Membership, deviation: Deviation, action: str) -> None:
    """The activity entry of a deviation written or deleted: every field, before or after."""
    values = snapshot(deviation, FIELDS).items()
    changes = {k: [None, v] if action == "create" else [v, None] for k, v in values}
    activity_record(
        organization=membership.organization,
        actor=Actor.for_principal(membership),
        action=action,
        target=deviation,
        object_repr=f"Deviation of {deviation.control.code}, {deviation.period_label}",
        changes=changes,
    )


def deviation_record(
    *,
    membership: Membership,
    control: Control,
    period_start: dt.date,
    period_end: dt.date,
    what_happened: str,
    cause: str,
    remediation: str,
    remediation_date: dt.date | None = None,
) -> Deviation:
    """Record a deviation of ``control`` in a period, with the management response."""
    if control.organization_id != membership.organization_id:
        raise NotFound("No such control.")
    permissions.require(membership, Action.CONTROL_MANAGE)
    values = _clean(
        {
            "period_start": period_start,
            "period_end": period_end,
            "what_happened": what_happened,
            "cause": cause,
            "remediation": remediation,
            "remediation_date": remediation_date,
        }
    )
    with transaction.atomic():
        deviation = Deviation.objects.create(
            organization_id=membership.organization_id,
            control=control,
            # A person is linked; an API key (also a principal here) is named in the
            # activity entry written below instead.
            recorded_by=membership if isinstance(membership, Membership) else None,
            **values,
        )
        _log(membership, deviation, "create")
    return deviation


def deviation_delete(*, membership: Membership, deviation: Deviation) -> None:
    if deviation.organization_id != membership.organization_id:
        raise NotFound("No such deviation.")
    permissions.require(membership, Action.CONTROL_MANAGE)
    with transaction.atomic():
        _log(membership, deviation, "delete")
        deviation.delete()
