"""Write services of training: adopting the built-in module, defining an external course,
assigning (everyone, a department, a person), and recording completions (the immutable
record, with the certificate stored like an evidence file).

Managers (``MANAGE``: the policy managers) run requirements and assignments and record
completions for others (import, API); a member linked to a person of the roster records their
own in the app; anyone holding a personal link records theirs through it (training.links).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from controls.models import Control
from evidence.side_files import store_side_file
from people import assignments
from people.models import Person
from policies.markdown import substitute, text_sha256
from soc2app.errors import Conflict, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action
from training.library import library_get
from training.models import (
    CompletionSource,
    RequirementKind,
    TrainingAssignment,
    TrainingCompletion,
    TrainingControl,
    TrainingRequirement,
    certificate_upload_to,
)

MANAGE = Action.POLICY_MANAGE
MAX_REQUIREMENTS = 100
ASSIGNING = assignments.Assigning(TrainingAssignment, "requirement", "training", MANAGE)


def _create(membership, *, note: str, control_codes=(), **fields) -> TrainingRequirement:
    org = membership.organization
    if TrainingRequirement.objects.for_org(org).count() >= MAX_REQUIREMENTS:
        raise ValidationFailed(f"An organization has at most {MAX_REQUIREMENTS} requirements.")
    try:
        with transaction.atomic():
            req = TrainingRequirement.objects.create(organization=org, **fields)
            controls = Control.objects.for_org(org).filter(code__in=list(control_codes))
            TrainingControl.objects.bulk_create(
                [TrainingControl(organization=org, requirement=req, control=c) for c in controls]
            )
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="create",
                target=req,
                changes={"title": [None, req.title], "note": [None, note]},
            )
    except IntegrityError as exc:
        raise Conflict("A training requirement has that title already.") from exc
    return req


def requirement_adopt(*, membership: Membership, key: str) -> TrainingRequirement:
    """The built-in module as a requirement, linked to the controls the library names."""
    permissions.require(membership, MANAGE)
    entry = library_get(key)
    if entry is None:
        raise ValidationFailed("No such module in the library.", field="key")
    org = membership.organization
    if TrainingRequirement.objects.for_org(org).filter(library_key=entry.key).exists():
        raise Conflict(f"{entry.title} is adopted already.")
    return _create(
        membership,
        note=f"Adopted from the library (version {entry.version})",
        control_codes=entry.controls,
        title=entry.title,
        description=entry.summary[:500],
        kind=RequirementKind.MODULE,
        library_key=entry.key,
        module_body=entry.body,
        due_days=entry.due_days,
        every_months=entry.every_months,
        criteria=list(entry.criteria),
    )


def requirement_create(
    *,
    membership: Membership,
    title: str,
    description: str = "",
    due_days: int = 30,
    every_months: int = 12,
) -> TrainingRequirement:
    """An external course: people give the date they completed it (and a certificate)."""
    permissions.require(membership, MANAGE)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ValidationFailed("Give the course a title of at most 200 characters.", field="title")
    if not 0 <= due_days <= 365:
        raise ValidationFailed("Due within 0 to 365 days of the start date.", field="due_days")
    if not 0 <= every_months <= 36:
        raise ValidationFailed("Repeat every 0 (once) to 36 months.", field="every_months")
    return _create(
        membership,
        note="External course",
        title=title,
        description=(description or "").strip()[:500],
        kind=RequirementKind.EXTERNAL,
        due_days=due_days,
        every_months=every_months,
    )


def links_queue(req: TrainingRequirement) -> None:
    from training.tasks import training_links_send

    org_id, req_id = req.organization_id, req.pk
    transaction.on_commit(lambda: training_links_send.delay(org_id, req_id))


def assignment_add(
    *,
    membership: Membership,
    requirement: TrainingRequirement,
    target: str,
    department: str = "",
    person: Person | None = None,
) -> TrainingAssignment:
    return ASSIGNING.add(
        membership, requirement, target, department, person, lambda: links_queue(requirement)
    )


def assignment_remove(*, membership: Membership, assignment: TrainingAssignment) -> None:
    """Stops asking; completions recorded stay."""
    ASSIGNING.remove(membership, assignment)


def module_text(req: TrainingRequirement, org: Organization) -> str:
    return substitute(req.module_body, org.name)


def check_completed_on(day: Any, person: Person, today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    if not isinstance(day, dt.date):
        raise ValidationFailed("Give the completion date (YYYY-MM-DD).", field="completed_on")
    if day > today:
        raise ValidationFailed("The completion date cannot be in the future.", field="completed_on")
    if day < person.start_date - dt.timedelta(days=366):
        raise ValidationFailed(
            "The completion date is more than a year before the person started.",
            field="completed_on",
        )
    return day


def _store_certificate(org: Organization, upload: Any) -> dict:
    """Check the file as evidence uploads are checked, then store it; the fields to record."""
    holder = TrainingCompletion(organization=org)
    stored = store_side_file(
        upload,
        key=lambda name: certificate_upload_to(holder, name),
        field="certificate",
        what="The certificate",
        without="record the completion without it",
        max_bytes=settings.TRAINING_CERTIFICATE_MAX_BYTES,
    )
    return {
        "certificate": stored.key,
        "certificate_name": stored.name,
        "certificate_type": stored.content_type,
        "certificate_size": stored.size,
        "certificate_sha256": stored.sha256,
    }


def completion_record(
    *,
    organization: Organization,
    person: Person,
    requirement: TrainingRequirement,
    completed_on: dt.date,
    source: str,
    actor: Actor,
    provider: str = "",
    certificate: Any = None,
    module_sha256: str = "",
    ip_address: str = "",
    user_agent: str = "",
) -> TrainingCompletion:
    """The immutable record (and its activity entry). A certificate is stored only if the
    record commits: a refusal keeps nothing."""
    fields = _store_certificate(organization, certificate) if certificate else {}
    try:
        with transaction.atomic():
            completion = TrainingCompletion.objects.create(
                organization=organization,
                person=person,
                requirement=requirement,
                completed_on=completed_on,
                source=source,
                provider=(provider or "").strip()[:200],
                module_sha256=module_sha256,
                recorded_by_label=actor.label[:200],
                ip_address=ip_address or None,
                user_agent=(user_agent or "")[:400],
                **fields,
            )
            activity_record(
                organization=organization,
                actor=actor,
                action="complete",
                target=requirement,
                changes={
                    "person": [None, person.pk],
                    "completed_on": [None, completed_on.isoformat()],
                    "source": [None, source],
                    **({"sha256": [None, fields["certificate_sha256"]]} if fields else {}),
                },
            )
    except BaseException as exc:
        if fields:
            default_storage.delete(fields["certificate"])
        if isinstance(exc, IntegrityError):
            raise Conflict("This completion is recorded already for that date.") from exc
        raise
    return completion


def completion_in_app(
    *,
    membership: Membership,
    requirement: TrainingRequirement,
    person: Person,
    completed_on: dt.date | None = None,
    shown_sha256: str = "",
    provider: str = "",
    certificate: Any = None,
    ip_address: str = "",
    user_agent: str = "",
) -> TrainingCompletion:
    """A member records their own training (the person linked to them)."""
    org = membership.organization
    today = timezone.localdate()
    if requirement.kind == RequirementKind.MODULE:
        if shown_sha256 != text_sha256(module_text(requirement, org)):
            raise ValidationFailed("The module changed since the page was opened: read it again.")
        completed_on, module_sha = today, shown_sha256
    else:
        completed_on, module_sha = check_completed_on(completed_on, person, today), ""
    return completion_record(
        organization=org,
        person=person,
        requirement=requirement,
        completed_on=completed_on,
        source=CompletionSource.APP,
        actor=Actor.for_principal(membership),
        provider=provider,
        certificate=certificate,
        module_sha256=module_sha,
        ip_address=ip_address,
        user_agent=user_agent,
    )


def completion_by_manager(
    *,
    membership: Membership,
    requirement: TrainingRequirement,
    person: Person,
    completed_on: dt.date,
    provider: str = "",
    source: str = CompletionSource.API,
) -> TrainingCompletion:
    """A completion reported by a manager or an integration (API)."""
    permissions.require(membership, MANAGE)
    if person.organization_id != membership.organization_id:
        raise ValidationFailed("No such person in the roster.", field="email")
    return completion_record(
        organization=membership.organization,
        person=person,
        requirement=requirement,
        completed_on=check_completed_on(completed_on, person),
        source=source,
        actor=Actor.for_principal(membership),
        provider=provider,
    )
