"""Write services of the joiners' and leavers' checklists: templates and opening.

* ``template_for``: an organization's template of a kind, created with the default items
  (``people.checklist_rules.DEFAULTS``) on first need; ``checklist_template_update`` replaces
  its items (managers). Checklists already open keep the items they were opened with.
* ``checklists_sync``: called by the roster services (a person added, their start or end date
  changed, an import) inside their transaction. For each person: a checklist opens when its
  date does (``checklist_rules.opens``); a moved date moves the checklist and its *open*
  items' due dates (done items keep theirs: they were judged against them); an end date
  cleared deletes an offboarding checklist nothing was done on (one with a done or late
  item stays, as history). Idempotent (one checklist per person and kind, a unique
  constraint) and set-based: a constant number of statements per batch of people.
* ``checklists_backfill``: when a template is first created, the people already on the
  roster whose date opens one get theirs.

Opening writes one activity entry per call (how many opened, moved and dropped, and ids).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from controls.models import Control, ControlCriterion
from controls.selectors import owner_choices
from people import checklist_rules as rules
from people.models import Person
from people.models_checklists import (
    Checklist,
    ChecklistItem,
    ChecklistKind,
    ChecklistTemplate,
    ChecklistTemplateItem,
)
from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action

BATCH = 1000
ANCHOR = {ChecklistKind.ONBOARDING: "start_date", ChecklistKind.OFFBOARDING: "end_date"}


def _resolve_controls(org: Organization, specs: Iterable[rules.DefaultItem]) -> dict[str, Control]:
    """Each default item's control by library code, then by the template it was adopted
    from, then by criterion and title (three queries; see ``checklist_rules``)."""
    specs = list(specs)
    codes = {s.control_code for s in specs if s.control_code}
    refs = {r for s in specs for r in s.criteria}
    controls = Control.objects.for_org(org)
    by_code = {c.code: c for c in controls.filter(code__in=codes)}
    by_template = {
        c.template.code: c
        for c in controls.filter(template__code__in=codes).select_related("template")
    }
    by_ref: dict[str, list[Control]] = {}
    mappings = (
        ControlCriterion.objects.for_org(org)
        .filter(criterion__ref__in=refs)
        .select_related("control", "criterion")
        .order_by("control__code")
    )
    for mapping in mappings:
        by_ref.setdefault(mapping.criterion.ref, []).append(mapping.control)
    found = {}
    for spec in specs:
        control = by_code.get(spec.control_code) or by_template.get(spec.control_code)
        candidates = [c for ref in spec.criteria for c in by_ref.get(ref, [])]
        for candidate in candidates:
            if control is None and any(w in candidate.title.lower() for w in spec.words):
                control = candidate
        if control is not None:
            found[spec.title] = control
    return found


def template_for(
    org: Organization, kind: str, *, actor: Actor
) -> tuple[ChecklistTemplate, list[ChecklistTemplateItem]]:
    """The template of ``kind`` and its items; created with the defaults on first need (then
    ``checklists_backfill`` opens the checklists of people already on the roster)."""
    template = ChecklistTemplate.objects.for_org(org).filter(kind=kind).first()
    if template is not None:
        return template, list(ChecklistTemplateItem.objects.for_org(org).filter(template=template))
    specs = rules.DEFAULTS[kind]
    controls = _resolve_controls(org, specs)
    try:
        with transaction.atomic():
            template = ChecklistTemplate.objects.create(
                organization=org, kind=kind, title=rules.TITLES[kind]
            )
            items = [
                ChecklistTemplateItem(
                    organization=org,
                    template=template,
                    position=position,
                    title=spec.title,
                    description=spec.description,
                    owner_id=getattr(controls.get(spec.title), "owner_id", None),
                    due_days=spec.due_days,
                    business_days=spec.business_days,
                    control=controls.get(spec.title),
                    evidence_required=spec.evidence_required,
                )
                for position, spec in enumerate(specs)
            ]
            ChecklistTemplateItem.objects.bulk_create(items)
            activity_record(
                organization=org,
                actor=actor,
                action="checklist_template.create",
                target=template,
                changes={"items": [None, [i.title for i in items]]},
            )
    except IntegrityError:  # created meanwhile by another request
        return template_for(org, kind, actor=actor)
    checklists_backfill(org, kind, template_items=items, actor=actor)
    return template, items


def _open(
    org: Organization,
    kind: str,
    items: Sequence[ChecklistTemplateItem],
    anchors: Mapping[int, dt.date],
) -> list[Checklist]:
    now = timezone.now()
    new = [
        Checklist(organization=org, person_id=pk, kind=kind, anchor_date=day, opened_at=now)
        for pk, day in anchors.items()
    ]
    Checklist.objects.bulk_create(new, batch_size=BATCH)
    if any(c.pk is None for c in new):  # a backend that does not return ids
        ids = Checklist.objects.for_org(org).filter(kind=kind, person_id__in=list(anchors))
        new = list(ids)
    rows = [
        ChecklistItem(
            organization=org,
            checklist=checklist,
            position=item.position,
            title=item.title,
            description=item.description,
            owner_id=item.owner_id,
            due_days=item.due_days,
            business_days=item.business_days,
            due_date=rules.due_date(checklist.anchor_date, item.due_days, item.business_days),
            control_id=item.control_id,
            evidence_required=item.evidence_required,
        )
        for checklist in new
        for item in items
    ]
    ChecklistItem.objects.bulk_create(rows, batch_size=BATCH)
    return new


def _move(org: Organization, moves: Mapping[int, dt.date]) -> None:
    """Checklists (by id) to their new anchor; their open items' due dates follow."""
    checklists = [Checklist(pk=pk, anchor_date=day) for pk, day in moves.items()]
    Checklist.objects.for_org(org).bulk_update(checklists, ["anchor_date"], batch_size=BATCH)
    items = list(
        ChecklistItem.objects.for_org(org)
        .filter(checklist_id__in=list(moves), done_on__isnull=True)
        .only("pk", "checklist_id", "due_days", "business_days")
    )
    for item in items:
        item.due_date = rules.due_date(moves[item.checklist_id], item.due_days, item.business_days)
    ChecklistItem.objects.for_org(org).bulk_update(items, ["due_date"], batch_size=BATCH)


def _untouched(org: Organization, ids: Iterable[int]):  # noqa: ANN202
    """Checklists among ``ids`` nothing was done on and nothing was recorded late for."""
    return (
        Checklist.objects.for_org(org)
        .filter(pk__in=list(ids))
        .exclude(items__done_on__isnull=False)
        .exclude(items__overdue_recorded_at__isnull=False)
    )


def checklists_sync(
    org: Organization, person_ids: Sequence[int], *, actor: Actor, today: dt.date | None = None
) -> dict[str, list[int]]:
    """Open, move or drop the checklists of these people to match their dates (see the
    module's docstring). Returns the checklist ids opened, moved and dropped."""
    today = today or timezone.localdate()
    done: dict[str, list[int]] = {"opened": [], "moved": [], "dropped": []}
    if not person_ids:
        return done
    people = list(
        Person.objects.for_org(org)
        .filter(pk__in=list(person_ids), anonymised_at__isnull=True)
        .values("id", "start_date", "end_date")
    )
    existing = {
        (c.person_id, c.kind): c
        for c in Checklist.objects.for_org(org)
        .filter(person_id__in=[p["id"] for p in people])
        .only("pk", "person_id", "kind", "anchor_date")
    }
    for kind, field in ANCHOR.items():
        to_open: dict[int, dt.date] = {}
        moves: dict[int, dt.date] = {}
        drops: list[int] = []
        for person in people:
            day, found = person[field], existing.get((person["id"], kind))
            if found is None:
                if rules.opens(day, today):
                    to_open[person["id"]] = day
            elif day is None:
                drops.append(found.pk)
            elif day != found.anchor_date:
                moves[found.pk] = day
        if to_open:
            template, items = template_for(org, kind, actor=actor)
            # A template created just now opened the people in its window already.
            have = set(
                Checklist.objects.for_org(org)
                .filter(kind=kind, person_id__in=list(to_open))
                .values_list("person_id", flat=True)
            )
            fresh = {pk: day for pk, day in to_open.items() if pk not in have}
            done["opened"] += [c.pk for c in _open(org, kind, items, fresh)]
        if moves:
            _move(org, moves)
            done["moved"] += list(moves)
        if drops:
            dropped = list(_untouched(org, drops).values_list("pk", flat=True))
            Checklist.objects.for_org(org).filter(pk__in=dropped).delete()
            done["dropped"] += dropped
    _record(org, actor, done)
    return done


def _record(org: Organization, actor: Actor, done: Mapping[str, list[int]]) -> None:
    if not any(done.values()):
        return
    counts = ", ".join(f"{len(ids)} {what}" for what, ids in done.items() if ids)
    activity_record(
        organization=org,
        actor=actor,
        action="checklist.sync",
        object_type="people.checklist",
        object_repr=f"Joiners' and leavers' checklists: {counts}"[:200],
        changes={what: [None, ids] for what, ids in done.items() if ids},
    )


def checklists_backfill(
    org: Organization,
    kind: str,
    *,
    template_items: Sequence[ChecklistTemplateItem],
    actor: Actor,
    today: dt.date | None = None,
) -> list[Checklist]:
    """Open ``kind``'s checklist for everyone on the roster whose date opens one and who has
    none yet (a template created for the first time)."""
    today = today or timezone.localdate()
    field = ANCHOR[kind]
    cutoff = today - dt.timedelta(days=rules.OPEN_LOOKBACK_DAYS)
    have = Checklist.objects.for_org(org).filter(kind=kind).values("person_id")
    anchors = dict(
        Person.objects.for_org(org)
        .filter(**{f"{field}__gte": cutoff}, anonymised_at__isnull=True)
        .exclude(pk__in=have)
        .values_list("id", field)
    )
    if not anchors:
        return []
    opened = _open(org, kind, template_items, anchors)
    _record(org, actor, {"opened": [c.pk for c in opened]})
    return opened


def checklists_drop_untouched(org: Organization, person: Person) -> None:
    """A roster entry deleted as a mistake: its checklists nothing was done on go with it."""
    ids = Checklist.objects.for_org(org).filter(person=person).values_list("pk", flat=True)
    _untouched(org, list(ids)).delete()


def _item_values(
    index: int, raw: Mapping[str, Any], owners: set[int], controls: set[int]
) -> dict[str, Any]:
    where = f"items[{index}]"
    title = str(raw.get("title") or "").strip()
    if not title:
        raise ValidationFailed(f"Item {index + 1}: give it a title.", field=f"{where}.title")
    if len(title) > rules.TITLE_MAX:
        raise ValidationFailed(
            f"Item {index + 1}: keep the title under {rules.TITLE_MAX} characters.",
            field=f"{where}.title",
        )
    description = str(raw.get("description") or "").strip()
    if len(description) > rules.NOTE_MAX:
        raise ValidationFailed(
            f"Item {index + 1}: keep the description under {rules.NOTE_MAX} characters.",
            field=f"{where}.description",
        )
    due_days = raw.get("due_days", 0)
    if not isinstance(due_days, int) or isinstance(due_days, bool):
        raise ValidationFailed(f"Item {index + 1}: due days is a whole number.", field=where)
    if not rules.DUE_MIN <= due_days <= rules.DUE_MAX:
        raise ValidationFailed(
            f"Item {index + 1}: due days must be between {rules.DUE_MIN} and {rules.DUE_MAX}.",
            field=f"{where}.due_days",
        )
    owner, control = raw.get("owner"), raw.get("control")
    if owner is not None and owner not in owners:
        raise ValidationFailed(
            f"Item {index + 1}: the owner must be an active member (not an auditor).",
            field=f"{where}.owner",
        )
    if control is not None and control not in controls:
        raise ValidationFailed(
            f"Item {index + 1}: no such control in this organization.", field=f"{where}.control"
        )
    return {
        "title": title,
        "description": description,
        "owner_id": owner,
        "due_days": due_days,
        "business_days": bool(raw.get("business_days", False)),
        "control_id": control,
        "evidence_required": bool(raw.get("evidence_required", False)),
    }


def checklist_template_update(
    *, membership: Membership, kind: str, items: Sequence[Mapping[str, Any]]
) -> tuple[ChecklistTemplate, list[ChecklistTemplateItem]]:
    """Replace the template's items with ``items`` (in order): dicts of ``title``,
    ``description``, ``owner`` (a membership id or None), ``due_days``, ``business_days``,
    ``control`` (a control id or None), ``evidence_required``. All or nothing."""
    permissions.require(membership, Action.PEOPLE_MANAGE)
    org = membership.organization
    if kind not in ChecklistKind.values:
        raise ValidationFailed("No such checklist kind.", field="kind")
    if not items:
        raise ValidationFailed("Keep at least one item.", field="items")
    if len(items) > rules.MAX_ITEMS:
        raise ValidationFailed(f"At most {rules.MAX_ITEMS} items.", field="items")
    owners = {pk for pk, _ in owner_choices(org)}
    wanted = {raw.get("control") for raw in items} - {None}
    controls = set(
        Control.objects.for_org(org).filter(pk__in=list(wanted)).values_list("pk", flat=True)
    )
    values = [_item_values(n, raw, owners, controls) for n, raw in enumerate(items)]
    actor = Actor.for_principal(membership)
    template, before = template_for(org, kind, actor=actor)
    with transaction.atomic():
        ChecklistTemplate.objects.for_org(org).select_for_update().filter(pk=template.pk).first()
        ChecklistTemplateItem.objects.for_org(org).filter(template=template).delete()
        new = [
            ChecklistTemplateItem(organization=org, template=template, position=n, **row)
            for n, row in enumerate(values)
        ]
        ChecklistTemplateItem.objects.bulk_create(new)
        template.updated_at = timezone.now()
        template.save(update_fields=["updated_at"])
        activity_record(
            organization=org,
            actor=actor,
            action="checklist_template.update",
            target=template,
            changes={"items": [_summary(before), _summary(new)]},
        )
    return template, new


def _summary(items: Iterable[ChecklistTemplateItem]) -> list[str]:
    return [
        f"{i.title} ({i.due_days:+d}{' business' if i.business_days else ''} days"
        f"{', control ' + str(i.control_id) if i.control_id else ''}"
        f"{', owner ' + str(i.owner_id) if i.owner_id else ''}"
        f"{', evidence required' if i.evidence_required else ''})"
        for i in items
    ]
