"""Write services for systems and controls (audits live in ``controls.audits``).

Each checks permissions, validates business rules with field-level messages, runs in one
transaction and writes the activity log in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from controls.models import (
    Control,
    ControlCriterion,
    ControlStatus,
    ControlTemplate,
    ControlType,
    Frequency,
    Operation,
    System,
)
from controls.operation import default_operation
from criteria.models import Criterion
from criteria.selectors import framework_get
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import Membership
from tenants.permissions import Action

CONTROL_FIELDS = (
    "code",
    "title",
    "description",
    "control_type",
    "frequency",
    "operation",
    "owner",
    "status",
    "na_justification",
    "due_date",
)
# What a contributor may change on a control they own.
OWNER_FIELDS = frozenset({"status", "description", "na_justification"})


def _owner_in_org(
    membership: Membership, owner: Membership | int | str | None
) -> Membership | None:
    """The owner, looked up inside the acting member's organization (ids from forms too)."""
    if owner is None or owner == "":
        return None
    if isinstance(owner, Membership):
        owner_id = owner.pk
    elif isinstance(owner, int) or (isinstance(owner, str) and owner.strip().isdigit()):
        owner_id = int(owner)
    else:
        owner_id = None
    found = (
        Membership.objects.for_org(membership.organization_id).filter(pk=owner_id).first()
        if owner_id is not None
        else None
    )
    if found is None:
        raise ValidationFailed("Choose an owner from this organization.", field="owner")
    return found


def _same_org(membership: Membership, obj: Control | System) -> None:
    # Callers fetch inside the organization; this is the backstop (404, like a missing row).
    if obj.organization_id != membership.organization_id:
        raise NotFound(f"No such {obj._meta.verbose_name}.")


def _criteria_for(refs: Iterable[str]) -> list[Criterion]:
    """Criteria of the catalog by reference; unknown references are named in the message."""
    refs = [r.strip().upper() for r in refs if r and r.strip()]
    framework = framework_get()
    found = {c.ref.upper(): c for c in Criterion.objects.filter(framework=framework, ref__in=refs)}
    unknown = [r for r in refs if r not in found]
    if unknown:
        raise ValidationFailed(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the catalog "
            f"({framework.name}).",
            field="criteria",
        )
    return [found[r] for r in dict.fromkeys(refs)]


def _validate_control(values: dict) -> None:
    code = values.get("code", "")
    if not code or len(code) > 20 or not all(c.isalnum() or c in "-_." for c in code):
        raise ValidationFailed(
            "Use 1 to 20 letters, digits, '-', '_' or '.' for the code.", field="code"
        )
    if not values.get("title", "").strip():
        raise ValidationFailed("Give the control a title.", field="title")
    if values.get("control_type") not in ControlType.values:
        raise ValidationFailed("Choose a control type.", field="control_type")
    if values.get("operation") not in Operation.values:
        raise ValidationFailed("Choose manual or automatic operation.", field="operation")
    if values.get("frequency") not in Frequency.values:
        raise ValidationFailed("Choose a frequency.", field="frequency")
    if values.get("status") not in ControlStatus.values:
        raise ValidationFailed("Choose a status.", field="status")
    if (
        values["status"] == ControlStatus.NOT_APPLICABLE
        and not values.get("na_justification", "").strip()
    ):
        raise ValidationFailed(
            "Explain why the control does not apply: auditors ask for it.", field="na_justification"
        )


def _save_control(control: Control, *, adding: bool) -> None:
    try:
        with transaction.atomic():
            control.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            f"Another control already uses the code {control.code}.", field="code"
        ) from exc


def control_create(
    *,
    membership: Membership,
    code: str,
    title: str,
    control_type: str,
    frequency: str,
    description: str = "",
    owner: Membership | int | None = None,
    status: str = ControlStatus.NOT_STARTED,
    na_justification: str = "",
    due_date: dt.date | None = None,
    criteria: Iterable[str] = (),
    template: ControlTemplate | None = None,
    operation: str = "",
) -> Control:
    """Create a control; its ``operation`` defaults from its type (``controls.operation``)."""
    permissions.require(membership, Action.CONTROL_MANAGE)
    values = {
        "code": code.strip().upper(),
        "title": title.strip(),
        "description": description.strip(),
        "control_type": control_type,
        "frequency": frequency,
        "operation": operation or default_operation(control_type),
        "status": status,
        "na_justification": na_justification.strip(),
        "due_date": due_date,
    }
    _validate_control(values)
    owner_obj = _owner_in_org(membership, owner)
    mapped = _criteria_for(criteria)
    org = membership.organization
    with transaction.atomic():
        control = Control(organization=org, owner=owner_obj, template=template, **values)
        if template is not None:
            control.evidence_guidance = template.evidence_guidance
        _save_control(control, adding=True)
        ControlCriterion.objects.bulk_create(
            [ControlCriterion(organization=org, control=control, criterion=c) for c in mapped]
        )
        changes = {
            k: [None, v]
            for k, v in snapshot(control, CONTROL_FIELDS).items()
            if v not in ("", None)
        }
        changes["criteria"] = [None, [c.ref for c in mapped]]
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="create",
            target=control,
            changes=changes,
        )
    return control


@dataclass
class AdoptResult:
    adopted: list[Control] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def controls_adopt(
    *,
    membership: Membership,
    templates: Iterable[ControlTemplate],
    owner: Membership | int | None = None,
) -> AdoptResult:
    """Adopt library templates as controls, mapped to the template's criteria.

    A template whose code is already used in the organization is skipped (and reported),
    so adopting twice creates nothing twice.
    """
    permissions.require(membership, Action.CONTROL_MANAGE)
    templates = list(templates)
    prefetch_related_objects(templates, "criteria")
    taken = set(
        Control.objects.for_org(membership.organization_id)
        .filter(code__in=[t.code.upper() for t in templates])
        .values_list("code", flat=True)
    )
    result = AdoptResult()
    owner_obj = _owner_in_org(membership, owner)
    with transaction.atomic():
        for template in templates:
            if template.code.upper() in taken:
                result.skipped.append(template.code)
                continue
            # Two templates with one code (from two libraries): the first one wins.
            taken.add(template.code.upper())
            result.adopted.append(
                control_create(
                    membership=membership,
                    code=template.code,
                    title=template.title,
                    description=template.description,
                    control_type=template.control_type,
                    frequency=template.frequency,
                    owner=owner_obj,
                    criteria=[c.ref for c in template.criteria.all()],
                    template=template,
                )
            )
    return result


def control_update(*, membership: Membership, control: Control, **changes: object) -> Control:
    """Change fields of a control. Contributors may change only status, description and the
    not-applicable justification, and only on controls they own.

    Everything is validated before ``control`` is touched: a refused change leaves it as it was.
    """
    _same_org(membership, control)
    permissions.require_control_edit(membership, control)
    unknown = set(changes) - set(CONTROL_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    if not permissions.can(membership, Action.CONTROL_MANAGE):
        forbidden = sorted(set(changes) - OWNER_FIELDS)
        if forbidden:
            raise NotPermitted(
                "As the control's owner you can change its status and description, "
                f"not {', '.join(forbidden)}.",
                field=forbidden[0],
            )
    values = {name: getattr(control, name) for name in CONTROL_FIELDS if name != "owner"}
    for name, value in changes.items():
        if name != "owner":
            values[name] = value.strip() if isinstance(value, str) else value
    values["code"] = (values["code"] or "").upper()
    if not values.get("operation"):  # blank: the default for its (possibly new) type
        values["operation"] = default_operation(values.get("control_type", ""))
    if "owner" in changes:
        values["owner"] = _owner_in_org(membership, changes["owner"])
    _validate_control(values)
    if (
        values["code"] != control.code
        and Control.objects.for_org(membership.organization_id)
        .filter(code=values["code"])
        .exclude(pk=control.pk)
        .exists()
    ):
        raise ValidationFailed(
            f"Another control already uses the code {values['code']}.", field="code"
        )
    before = snapshot(control, CONTROL_FIELDS)
    previous = {name: getattr(control, name) for name in values}
    for name, value in values.items():
        setattr(control, name, value)
    changed = diff(before, snapshot(control, CONTROL_FIELDS))
    if not changed:
        return control
    control.updated_at = timezone.now()
    try:
        with transaction.atomic():
            _save_control(control, adding=False)
            activity_record(
                organization=membership.organization,
                actor=Actor.for_principal(membership),
                action="update",
                target=control,
                changes=changed,
            )
            if "owner" in changed:
                # Open monitoring findings follow the control's owner (the app that owns them
                # does it; imported here, as the control page imports its tests).
                from monitoring.findings import findings_follow_owner

                findings_follow_owner(control=control, actor=Actor.for_principal(membership))
    except ValidationFailed:
        for name, value in previous.items():
            setattr(control, name, value)
        raise
    return control


def control_set_criteria(
    *, membership: Membership, control: Control, refs: Iterable[str]
) -> Control:
    """Map ``control`` to exactly the criteria ``refs`` (references such as CC6.1)."""
    _same_org(membership, control)
    permissions.require(membership, Action.CONTROL_MANAGE)
    wanted = {c.pk: c for c in _criteria_for(refs)}
    org = membership.organization
    with transaction.atomic():
        current = dict(
            ControlCriterion.objects.for_org(org)
            .filter(control=control)
            .values_list("criterion_id", "criterion__ref")
        )
        if set(current) == set(wanted):
            return control
        ControlCriterion.objects.for_org(org).filter(control=control).exclude(
            criterion_id__in=wanted
        ).delete()
        ControlCriterion.objects.bulk_create(
            [
                ControlCriterion(organization=org, control=control, criterion=c)
                for pk, c in wanted.items()
                if pk not in current
            ]
        )
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="update",
            target=control,
            changes={
                "criteria": [sorted(current.values()), sorted(c.ref for c in wanted.values())]
            },
        )
    return control


def controls_bulk_update(
    *,
    membership: Membership,
    controls: Iterable[Control],
    owner: object = ...,
    status: str | None = None,
) -> int:
    """Set the owner and/or status of many controls at once; returns how many changed."""
    permissions.require(membership, Action.CONTROL_MANAGE)
    changes: dict[str, object] = {}
    if owner is not ...:
        changes["owner"] = owner
    if status:
        if status == ControlStatus.NOT_APPLICABLE:
            raise ValidationFailed(
                "Mark controls not applicable one by one, each with its justification.",
                field="status",
            )
        changes["status"] = status
    if not changes:
        raise ValidationFailed("Choose an owner or a status to apply.")
    count = 0
    with transaction.atomic():
        for control in controls:
            before = snapshot(control, CONTROL_FIELDS)
            control_update(membership=membership, control=control, **changes)
            count += before != snapshot(control, CONTROL_FIELDS)
    return count


def control_delete(*, membership: Membership, control: Control) -> None:
    """Delete a control that has no evidence (otherwise mark it not applicable)."""
    from evidence.models import EvidenceItem

    _same_org(membership, control)
    permissions.require(membership, Action.CONTROL_MANAGE)
    if EvidenceItem.objects.for_org(membership.organization_id).filter(control=control).exists():
        raise ValidationFailed(
            f"{control.code} has evidence and cannot be deleted; mark it not applicable instead."
        )
    with transaction.atomic():
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="delete",
            target=control,
            changes={"code": [control.code, None]},
        )
        ControlCriterion.objects.for_org(membership.organization_id).filter(
            control=control
        ).delete()
        control.delete()
