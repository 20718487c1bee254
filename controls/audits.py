"""Write services for audits: scope, dates, the CPA firm, and the self-assessment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone

from controls.models import (
    Answer,
    Audit,
    AuditCategory,
    AuditStatus,
    AuditSystem,
    AuditType,
    SelfAssessmentAnswer,
    System,
)
from controls.periods import window_length_label, window_months
from criteria.models import Category, Criterion, Framework
from criteria.selectors import framework_get
from soc2app.errors import NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import Membership
from tenants.permissions import Action

MIN_WINDOW_MONTHS = 3
MAX_WINDOW_MONTHS = 12
AUDIT_FIELDS = (
    "name",
    "audit_type",
    "as_of_date",
    "window_start",
    "window_end",
    "status",
    "cpa_firm",
    "fieldwork_start",
    "fieldwork_end",
)


def _validate_dates(values: Mapping) -> None:
    if values.get("audit_type") not in AuditType.values:
        raise ValidationFailed("Choose Type 1 or Type 2.", field="audit_type")
    today = timezone.localdate()
    if values["audit_type"] == AuditType.TYPE1:
        if not values.get("as_of_date"):
            raise ValidationFailed(
                "A Type 1 audit needs the date its design is assessed at.", field="as_of_date"
            )
        if values.get("status") == AuditStatus.COMPLETED and values["as_of_date"] > today:
            raise ValidationFailed(
                "A completed audit cannot be as of a future date.", field="as_of_date"
            )
    else:
        start, end = values.get("window_start"), values.get("window_end")
        if not start:
            raise ValidationFailed(
                "A Type 2 audit needs the start of its observation window.", field="window_start"
            )
        if not end:
            raise ValidationFailed(
                "A Type 2 audit needs the end of its observation window.", field="window_end"
            )
        if end <= start:
            raise ValidationFailed("The window must end after it starts.", field="window_end")
        months = window_months(start, end)
        if months > MAX_WINDOW_MONTHS + 1e-9:
            raise ValidationFailed(
                f"The window is {window_length_label(start, end)} long; "
                "a SOC 2 Type 2 window is at most 12 months.",
                field="window_end",
            )
        if months < MIN_WINDOW_MONTHS - 1e-9:
            raise ValidationFailed(
                f"The window is {window_length_label(start, end)} long; "
                "auditors expect at least 3 months.",
                field="window_end",
            )
        if values.get("status") == AuditStatus.COMPLETED and end > today:
            raise ValidationFailed(
                "A completed audit cannot have a window that ends in the future.",
                field="window_end",
            )
    f_start, f_end = values.get("fieldwork_start"), values.get("fieldwork_end")
    if f_start and f_end and f_end < f_start:
        raise ValidationFailed("Fieldwork must end after it starts.", field="fieldwork_end")
    if values.get("status") not in AuditStatus.values:
        raise ValidationFailed("Choose a status.", field="status")


def _scope(
    membership: Membership,
    framework: Framework,
    category_keys: Iterable[str],
    system_ids: Iterable[int | str],
) -> tuple[list[Category], list[System]]:
    """The categories (Security always among them) and systems of the audit's scope."""
    keys = {k.strip() for k in category_keys if k and k.strip()}
    categories = list(Category.objects.filter(framework=framework))
    known = {c.key for c in categories}
    unknown = sorted(keys - known)
    if unknown:
        raise ValidationFailed(f"Unknown category: {', '.join(unknown)}.", field="categories")
    chosen = [c for c in categories if c.always_in_scope or c.key in keys]
    try:
        wanted = {int(s) for s in system_ids}
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("Choose systems of this organization.", field="systems") from exc
    systems = list(System.objects.for_org(membership.organization_id).filter(pk__in=wanted))
    if len(systems) != len(wanted):
        raise ValidationFailed("Choose systems of this organization.", field="systems")
    return chosen, systems


def _normalize(values: dict) -> dict:
    values = dict(values)
    values["name"] = (values.get("name") or "").strip()
    values["cpa_firm"] = (values.get("cpa_firm") or "").strip()
    values["status"] = values.get("status") or AuditStatus.PLANNING
    if not values["name"]:
        raise ValidationFailed("Give the audit a name.", field="name")
    if values.get("audit_type") == AuditType.TYPE1:
        values["window_start"] = values["window_end"] = None
    elif values.get("audit_type") == AuditType.TYPE2:
        values["as_of_date"] = None
    return values


def audit_save(
    *,
    membership: Membership,
    audit: Audit | None = None,
    categories: Iterable[str] | None = None,
    systems: Iterable[int | str] | None = None,
    **values: object,
) -> Audit:
    """Create an audit (``audit`` None) or update one: type, dates, scope and CPA firm.

    On update, fields not given keep their value, and so do ``categories`` and ``systems``
    when they are None. Security is always in scope.
    """
    permissions.require(membership, Action.AUDIT_MANAGE)
    unknown = set(values) - set(AUDIT_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    adding = audit is None
    org = membership.organization
    if not adding:
        if audit.organization_id != membership.organization_id:
            raise NotFound("No such audit.")
        values = {**snapshot_values(audit), **values}
        current = _current_scope(audit)
        categories = current[0] if categories is None else categories
        systems = current[1] if systems is None else systems
    values = _normalize(values)
    _validate_dates(values)
    framework = framework_get() if adding else audit.framework
    chosen, system_objs = _scope(membership, framework, categories or (), systems or ())
    clash = Audit.objects.for_org(org).filter(name=values["name"])
    if not adding:
        clash = clash.exclude(pk=audit.pk)
    if clash.exists():
        raise ValidationFailed(f"Another audit is already named “{values['name']}”.", field="name")
    audit = audit or Audit(
        organization=org, framework=framework, created_by=getattr(membership, "user", None)
    )
    before = snapshot(audit, AUDIT_FIELDS) if not adding else {}
    for name, value in values.items():
        setattr(audit, name, value)
    keys = {c.pk: c.key for c in Category.objects.filter(framework=framework)}
    try:
        with transaction.atomic():
            audit.save()
            old_categories = _sync_links(
                AuditCategory, org, audit, "category", [c.pk for c in chosen]
            )
            old_systems = _sync_links(
                AuditSystem, org, audit, "system", [s.pk for s in system_objs]
            )
            changes = diff(before, snapshot(audit, AUDIT_FIELDS))
            if adding or old_categories != {c.pk for c in chosen}:
                changes["categories"] = [
                    None if adding else sorted(keys[pk] for pk in old_categories),
                    sorted(c.key for c in chosen),
                ]
            if adding or old_systems != {s.pk for s in system_objs}:
                changes["systems"] = [
                    None if adding else sorted(old_systems),
                    sorted(s.pk for s in system_objs),
                ]
            if changes:
                activity_record(
                    organization=org,
                    actor=Actor.for_principal(membership),
                    action="create" if adding else "update",
                    target=audit,
                    changes=changes,
                )
    except IntegrityError as exc:
        # Two saves racing for one name: the check above saw neither.
        raise ValidationFailed(
            f"Another audit is already named “{values['name']}”.", field="name"
        ) from exc
    return audit


def _current_scope(audit: Audit) -> tuple[list[str], list[int]]:
    org = audit.organization_id
    keys = list(
        AuditCategory.objects.for_org(org)
        .filter(audit=audit)
        .values_list("category__key", flat=True)
    )
    systems = list(
        AuditSystem.objects.for_org(org).filter(audit=audit).values_list("system_id", flat=True)
    )
    return keys, systems


def snapshot_values(audit: Audit) -> dict:
    return {name: getattr(audit, name) for name in AUDIT_FIELDS}


def _sync_links(model, org, audit: Audit, field: str, wanted: list[int]) -> set[int]:
    rows = model.objects.for_org(org).filter(audit=audit)
    current = set(rows.values_list(f"{field}_id", flat=True))
    rows.exclude(**{f"{field}_id__in": wanted}).delete()
    model.objects.bulk_create(
        [
            model(organization=org, audit=audit, **{f"{field}_id": pk})
            for pk in wanted
            if pk not in current
        ]
    )
    return current


def scope_criteria(audit: Audit) -> list[Criterion]:
    category_ids = (
        AuditCategory.objects.for_org(audit.organization_id)
        .filter(audit=audit)
        .values("category_id")
    )
    return list(
        Criterion.objects.filter(framework_id=audit.framework_id, category_id__in=category_ids)
        .select_related("category")
        .order_by("position")
    )


def self_assessment_save(
    *, membership: Membership, audit: Audit, answers: Mapping[str, tuple[str, str]]
) -> int:
    """Save answers ``{criterion ref: (answer, notes)}``; returns how many changed.

    Criteria outside the audit's scope are refused; "not applicable" needs notes.
    """
    permissions.require(membership, Action.AUDIT_MANAGE)
    if audit.organization_id != membership.organization_id:
        raise NotFound("No such audit.")
    in_scope = {c.ref: c for c in scope_criteria(audit)}
    answers = {
        ref.strip().upper(): (answer, (notes or "").strip())
        for ref, (answer, notes) in answers.items()
    }
    for ref, (answer, notes) in answers.items():
        if ref not in in_scope:
            raise ValidationFailed(f"{ref} is not in this audit's scope.", field=ref)
        if answer not in Answer.values:
            raise ValidationFailed(f"Choose an answer for {ref}.", field=ref)
        if answer == Answer.NOT_APPLICABLE and not notes:
            raise ValidationFailed(f"Explain why {ref} does not apply.", field=ref)
    org = membership.organization
    existing = {
        a.criterion_id: a for a in SelfAssessmentAnswer.objects.for_org(org).filter(audit=audit)
    }
    user = getattr(membership, "user", None)
    changed: dict[str, list] = {}
    with transaction.atomic():
        for ref, (answer, notes) in answers.items():
            criterion = in_scope[ref]
            row = existing.get(criterion.pk)
            if row is None:
                SelfAssessmentAnswer(
                    organization=org,
                    audit=audit,
                    criterion=criterion,
                    answer=answer,
                    notes=notes,
                    answered_by=user,
                ).save()
                changed[ref] = [None, answer]
            elif (row.answer, row.notes) != (answer, notes):
                changed[ref] = [row.answer, answer]
                row.answer, row.notes, row.answered_by, row.answered_at = (
                    answer,
                    notes,
                    user,
                    timezone.now(),
                )
                row.save(update_fields=["answer", "notes", "answered_by", "answered_at"])
        if changed:
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="assess",
                target=audit,
                changes=changed,
            )
    return len(changed)
