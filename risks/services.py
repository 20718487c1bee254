"""Write services of the risk register: create, adopt from the library, update (scores,
treatment, links), delete.

Rules:
* managers only (``Action.RISK_MANAGE``: owners, admins, compliance managers and their keys);
* likelihood and impact lie on the organization's matrix (1..size), refused with the field
  named otherwise, checked under the matrix's lock (``matrix.matrix_locked``) so a shrink of
  the matrix cannot pass them by; scores are likelihood x impact, stored (the database checks
  the product);
* the residual score is never above the inherent one (treatment does not make a risk
  worse): refused on the residual likelihood's field;
* "mitigate" needs at least one linked control; "accept" needs a reason and an end date in
  the future, and records who accepted and when; leaving "accept" clears the acceptance;
* the owner is a member who manages the register; controls and systems are the
  organization's own (another organization's id is "no such ...");
* the next review date defaults to a year from today.
Every change writes one activity entry in its transaction; refused input stores nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from controls.models import Control, System
from controls.periods import add_months
from risks import matrix as matrices
from risks.library import library_entry
from risks.models import Category, Risk, RiskControl, RiskMatrix, RiskSystem, Treatment
from risks.selectors import MANAGER_ROLES
from soc2app.errors import Conflict, NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import Membership
from tenants.permissions import Action

REVIEW_MONTHS = 12
TITLE_MAX = 200
FIELDS = (
    "title",
    "description",
    "category",
    "owner_id",
    "inherent_likelihood",
    "inherent_impact",
    "inherent_score",
    "residual_likelihood",
    "residual_impact",
    "residual_score",
    "treatment",
    "accepted_by_id",
    "accepted_reason",
    "accepted_until",
    "next_review_date",
    "library_key",
)
EDITABLE = frozenset(
    {
        "title",
        "description",
        "category",
        "owner",
        "inherent_likelihood",
        "inherent_impact",
        "residual_likelihood",
        "residual_impact",
        "treatment",
        "accepted_reason",
        "accepted_until",
        "next_review_date",
        "controls",
        "systems",
    }
)


def _owner(org_id: int, pk: int | None) -> int | None:
    if pk is None:
        return None
    found = Membership.objects.for_org(org_id).filter(pk=pk, role__in=MANAGER_ROLES).first()
    if found is None or not found.is_active:
        raise ValidationFailed(
            "Choose an owner among the members who manage the register.", field="owner"
        )
    return found.pk


def _ids(model: type, org_id: int, ids: Iterable[int], what: str, field: str) -> list[int]:
    wanted = sorted({int(i) for i in ids})
    found = set(model.objects.for_org(org_id).filter(pk__in=wanted).values_list("pk", flat=True))
    if len(found) != len(wanted):
        raise ValidationFailed(f"No such {what} in this organization.", field=field)
    return wanted


def _check(
    risk: Risk, *, matrix: RiskMatrix, controls: list[int], today: dt.date, accepting: bool
) -> None:
    for prefix in ("inherent", "residual"):
        matrices.check_point(
            matrix,
            likelihood=getattr(risk, f"{prefix}_likelihood"),
            impact=getattr(risk, f"{prefix}_impact"),
            prefix=prefix,
        )
    risk.inherent_score = risk.inherent_likelihood * risk.inherent_impact
    risk.residual_score = risk.residual_likelihood * risk.residual_impact
    if risk.residual_score > risk.inherent_score:
        # Treatment does not make a risk worse: a residual above the inherent is a slip.
        raise ValidationFailed(
            f"The residual score ({risk.residual_likelihood}x{risk.residual_impact} = "
            f"{risk.residual_score}) cannot be above the inherent score "
            f"({risk.inherent_likelihood}x{risk.inherent_impact} = {risk.inherent_score}): "
            "lower the residual likelihood or impact, or raise the inherent ones.",
            field="residual_likelihood",
        )
    risk.title = str(risk.title or "").strip()
    if not risk.title or len(risk.title) > TITLE_MAX:
        raise ValidationFailed(f"Give a title of at most {TITLE_MAX} characters.", field="title")
    if risk.category not in Category.values:
        raise ValidationFailed("Choose one of the listed categories.", field="category")
    if risk.treatment not in Treatment.values:
        raise ValidationFailed("Choose one of the listed treatments.", field="treatment")
    if risk.treatment == Treatment.MITIGATE and not controls:
        raise ValidationFailed(
            "To mitigate a risk, link at least one control that reduces it.", field="controls"
        )
    if risk.treatment == Treatment.ACCEPT:
        risk.accepted_reason = str(risk.accepted_reason or "").strip()
        if not risk.accepted_reason:
            raise ValidationFailed("Say why the risk is accepted.", field="accepted_reason")
        if risk.accepted_until is None:
            raise ValidationFailed(
                "Give the date until which the risk is accepted.", field="accepted_until"
            )
        if accepting and risk.accepted_until <= today:
            raise ValidationFailed("The acceptance must end after today.", field="accepted_until")
    if risk.next_review_date is None:
        raise ValidationFailed("Give the next review date.", field="next_review_date")


def _acceptance(risk: Risk, before: dict[str, Any], membership: Membership) -> bool:
    """Record or clear the acceptance; True when a (new) acceptance is being recorded."""
    if risk.treatment != Treatment.ACCEPT:
        risk.accepted_by, risk.accepted_reason = None, ""
        risk.accepted_until = risk.accepted_at = None
        return False
    changed = (
        before.get("treatment") != Treatment.ACCEPT
        or before.get("accepted_reason") != str(risk.accepted_reason or "").strip()
        or before.get("accepted_until") != _iso(risk.accepted_until)
    )
    if changed:
        is_key = getattr(membership, "is_api_key", False)
        risk.accepted_by = None if is_key else membership
        risk.accepted_at = timezone.now()
    return changed


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if isinstance(day, dt.date) else day


def _links(model: type, risk: Risk, field: str, ids: list[int]) -> None:
    current = set(
        model.objects.for_org(risk.organization_id)
        .filter(risk=risk)
        .values_list(f"{field}_id", flat=True)
    )
    wanted = set(ids)
    if current - wanted:
        model.objects.for_org(risk.organization_id).filter(
            risk=risk, **{f"{field}_id__in": current - wanted}
        ).delete()
    model.objects.bulk_create(
        [
            model(organization_id=risk.organization_id, risk=risk, **{f"{field}_id": pk})
            for pk in sorted(wanted - current)
        ]
    )


def _save(
    *,
    membership: Membership,
    risk: Risk,
    before: dict[str, Any],
    controls: list[int],
    systems: list[int],
    links_before: dict[str, list[int]],
    today: dt.date,
) -> Risk:
    org = membership.organization
    action = "create" if risk.pk is None else "update"
    try:
        with transaction.atomic():
            # The matrix locked until this risk is saved: a shrink of the matrix waits for it
            # (and then counts it), or it waits for the shrink and is checked on the new size.
            matrix = matrices.matrix_locked(org)
            accepting = _acceptance(risk, before, membership)
            _check(risk, matrix=matrix, controls=controls, today=today, accepting=accepting)
            changes = diff(before, snapshot(risk, FIELDS))
            changes.update(diff(links_before, {"controls": controls, "systems": systems}))
            if risk.pk is not None and not changes:
                return risk
            risk.updated_at = timezone.now()
            risk.save()
            _links(RiskControl, risk, "control", controls)
            _links(RiskSystem, risk, "system", systems)
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action=action,
                target=risk,
                changes=changes,
            )
    except IntegrityError as exc:
        if not risk.library_key:
            raise
        # The same library risk adopted concurrently (the unique key held).
        raise Conflict("This library risk is in the register already.", code="duplicate") from exc
    return risk


def risk_create(
    *,
    membership: Membership,
    title: str,
    category: str,
    inherent_likelihood: int,
    inherent_impact: int,
    residual_likelihood: int | None = None,
    residual_impact: int | None = None,
    description: str = "",
    owner: int | None = None,
    treatment: str = Treatment.UNDECIDED,
    controls: Iterable[int] = (),
    systems: Iterable[int] = (),
    accepted_reason: str = "",
    accepted_until: dt.date | None = None,
    next_review_date: dt.date | None = None,
    library_key: str = "",
    today: dt.date | None = None,
) -> Risk:
    """A new risk; the residual scores default to the inherent ones (no treatment yet)."""
    permissions.require(membership, Action.RISK_MANAGE)
    org = membership.organization
    today = today or timezone.localdate()
    risk = Risk(
        organization=org,
        title=title,
        description=str(description or "").strip(),
        category=category,
        owner_id=_owner(org.pk, owner),
        inherent_likelihood=inherent_likelihood,
        inherent_impact=inherent_impact,
        residual_likelihood=inherent_likelihood
        if residual_likelihood is None
        else residual_likelihood,
        residual_impact=inherent_impact if residual_impact is None else residual_impact,
        treatment=treatment,
        accepted_reason=accepted_reason,
        accepted_until=accepted_until,
        next_review_date=next_review_date or add_months(today, REVIEW_MONTHS),
        library_key=library_key,
    )
    return _save(
        membership=membership,
        risk=risk,
        before=dict.fromkeys(FIELDS),
        controls=_ids(Control, org.pk, controls, "control", "controls"),
        systems=_ids(System, org.pk, systems, "system", "systems"),
        links_before={"controls": [], "systems": []},
        today=today,
    )


def risk_adopt(*, membership: Membership, key: str, today: dt.date | None = None) -> Risk:
    """A risk from the library, scored as suggested, linked to the organization's controls
    with the suggested codes; "mitigate" when it has any, otherwise treatment not decided."""
    permissions.require(membership, Action.RISK_MANAGE)
    entry = library_entry(str(key))
    if entry is None:
        raise NotFound("No such risk in the library.")
    org = membership.organization
    if Risk.objects.for_org(org).filter(library_key=entry.key).exists():
        raise Conflict(f"“{entry.title}” is in the register already.", code="duplicate")
    controls = list(
        Control.objects.for_org(org).filter(code__in=entry.controls).values_list("pk", flat=True)
    )
    owner = membership.pk if membership.role in MANAGER_ROLES else None
    if getattr(membership, "is_api_key", False):
        owner = None
    return risk_create(
        membership=membership,
        title=entry.title,
        description=entry.description,
        category=entry.category,
        inherent_likelihood=entry.likelihood,
        inherent_impact=entry.impact,
        owner=owner,
        treatment=Treatment.MITIGATE if controls else Treatment.UNDECIDED,
        controls=controls,
        library_key=entry.key,
        today=today,
    )


def risk_update(
    *, membership: Membership, risk: Risk, today: dt.date | None = None, **values: Any
) -> Risk:
    """Change some fields (``EDITABLE``); ``controls`` and ``systems`` replace the links."""
    permissions.require(membership, Action.RISK_MANAGE)
    unknown = set(values) - EDITABLE
    if unknown:
        raise ValidationFailed(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    org_id = risk.organization_id
    today = today or timezone.localdate()
    before = snapshot(risk, FIELDS)
    links_before = {
        "controls": sorted(
            RiskControl.objects.for_org(org_id)
            .filter(risk=risk)
            .values_list("control_id", flat=True)
        ),
        "systems": sorted(
            RiskSystem.objects.for_org(org_id).filter(risk=risk).values_list("system_id", flat=True)
        ),
    }
    controls = links_before["controls"]
    systems = links_before["systems"]
    if "controls" in values:
        controls = _ids(Control, org_id, values.pop("controls") or (), "control", "controls")
    if "systems" in values:
        systems = _ids(System, org_id, values.pop("systems") or (), "system", "systems")
    if "owner" in values:
        risk.owner_id = _owner(org_id, values.pop("owner"))
    for name, value in values.items():
        setattr(risk, name, value)
    try:
        return _save(
            membership=membership,
            risk=risk,
            before=before,
            controls=controls,
            systems=systems,
            links_before=links_before,
            today=today,
        )
    except ValidationFailed:
        risk.refresh_from_db()  # the caller's object must not keep refused values
        raise


def risk_delete(*, membership: Membership, risk: Risk) -> None:
    permissions.require(membership, Action.RISK_MANAGE)
    with transaction.atomic():
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="delete",
            target=risk,
            changes={"title": [risk.title, None]},
        )
        risk.delete()
