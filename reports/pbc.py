"""The auditor's request list ("provided by client", PBC): raise, answer with evidence,
accept or reopen, and comment. Writes only; reads are in ``reports.selectors``.

Who may do what (``tenants.permissions``): auditors raise requests, accept or reopen answers
(``request.raise``) on the audits they were granted; compliance managers, admins and owners
answer (``request.answer``); both sides comment (``comment``). Every change is in the activity
log. Numbers (PBC-1, PBC-2, ...) count per audit; two auditors raising at once are serialized
by a lock on the audit row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from controls.models import Audit, Control
from evidence.models import EvidenceVersion
from reports.models import (
    AuditorAccess,
    InfoRequest,
    InfoRequestEvidence,
    RequestComment,
    RequestStatus,
)
from reports.selectors import audit_scope_controls
from soc2app.errors import NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Role
from tenants.permissions import Action

MAX_TITLE = 200
MAX_TEXT = 5000
MAX_ATTACHMENTS = 50


def _text(value: str | None, *, field: str, limit: int, required: bool, what: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(f"Write {what}.", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"Keep {what} under {limit} characters.", field=field)
    return value


def require_audit_access(membership: Membership, audit: Audit) -> None:
    """An auditor acts only on the audits granted to them, while their access lasts."""
    if audit.organization_id != membership.organization_id:
        raise NotFound("No such audit.")
    if membership.role == Role.AUDITOR:
        granted = (
            AuditorAccess.objects.for_org(membership.organization_id)
            .filter(membership_id=membership.pk, audit_id=audit.pk)
            .exists()
        )
        if not granted or not membership.is_active:
            raise NotFound("No such audit.")


def _log(membership: Membership, request: InfoRequest, action: str, **changes: object) -> None:
    activity_record(
        organization=membership.organization,
        actor=Actor.for_principal(membership),
        action=action,
        target=request,
        object_repr=f"{request.reference}: {request.title}"[:200],
        changes={k: [None, v] for k, v in changes.items()} or None,
    )


def next_request_number(audit: Audit) -> int:
    """The audit's next PBC number; call inside a transaction (the audit row stays locked until
    it ends, so two writers never get the same number)."""
    Audit.objects.for_org(audit.organization_id).select_for_update().filter(pk=audit.pk).get()
    last = (
        InfoRequest.objects.for_org(audit.organization_id)
        .filter(audit=audit)
        .aggregate(last=Max("number"))["last"]
    )
    return (last or 0) + 1


def request_raise(
    *,
    membership: Membership,
    audit: Audit,
    title: str,
    due_date: dt.date | None,
    details: str = "",
    control: Control | None = None,
) -> InfoRequest:
    permissions.require(membership, Action.REQUEST_RAISE)
    require_audit_access(membership, audit)
    title = _text(title, field="title", limit=MAX_TITLE, required=True, what="what you need")
    details = _text(details, field="details", limit=MAX_TEXT, required=False, what="the details")
    if due_date is None:
        raise ValidationFailed("Give a due date.", field="due_date")
    if due_date < timezone.localdate():
        raise ValidationFailed("The due date cannot be in the past.", field="due_date")
    if control is not None and not audit_scope_controls(audit).filter(pk=control.pk).exists():
        raise ValidationFailed("Choose a control in this audit's scope.", field="control")
    with transaction.atomic():
        request = InfoRequest.objects.create(
            organization_id=audit.organization_id,
            audit=audit,
            number=next_request_number(audit),
            control=control,
            title=title,
            details=details,
            due_date=due_date,
            raised_by=membership,
            raised_by_label=Actor.for_principal(membership).label[:200],
        )
        _log(membership, request, "request.raise", due_date=due_date.isoformat())
    return request


def _answer_checks(membership: Membership, request: InfoRequest, note: str) -> str:
    permissions.require(membership, Action.REQUEST_ANSWER)
    if request.organization_id != membership.organization_id:
        raise NotFound("No such request.")
    if request.status == RequestStatus.ACCEPTED:
        raise ValidationFailed("This request is accepted already: nothing more is needed.")
    return _text(note, field="note", limit=MAX_TEXT, required=False, what="the note")


def _chosen_versions(
    request: InfoRequest, version_ids: Iterable[int], *, adding: int = 0
) -> list[EvidenceVersion]:
    """The chosen versions, checked: in scope, live, deliverable, not too many."""
    try:
        wanted = sorted({int(pk) for pk in version_ids})
    except (TypeError, ValueError):
        raise ValidationFailed(
            "Choose evidence versions from the list.", field="versions"
        ) from None
    if any(not 0 < pk < 2**63 for pk in wanted):
        raise ValidationFailed(
            "Choose evidence of controls in this audit's scope.", field="versions"
        )
    if not wanted and not adding:
        raise ValidationFailed("Choose at least one evidence version to send.", field="versions")
    if len(wanted) + adding > MAX_ATTACHMENTS:
        raise ValidationFailed(
            f"Send at most {MAX_ATTACHMENTS} versions at once.", field="versions"
        )
    versions = list(
        EvidenceVersion.objects.for_org(request.organization_id).filter(
            pk__in=wanted,
            item__removed_at__isnull=True,
            item__control_id__in=audit_scope_controls(request.audit).values("pk"),
        )
    )
    if len(versions) != len(wanted):
        raise ValidationFailed(
            "Choose evidence of controls in this audit's scope.", field="versions"
        )
    if any(not v.is_deliverable for v in versions):
        # Held for its malware scan or quarantined: its content must not reach an auditor.
        raise ValidationFailed(
            "A chosen file is waiting for its malware scan or was quarantined; send a clean "
            "version instead.",
            field="versions",
            code="not_deliverable",
        )
    return versions


def _attach(
    membership: Membership, request: InfoRequest, versions: list[EvidenceVersion], note: str
) -> None:
    """Attach the versions and mark the request answered; call inside a transaction."""
    label = Actor.for_principal(membership).label[:200]
    now = timezone.now()
    InfoRequestEvidence.objects.bulk_create(
        [
            InfoRequestEvidence(
                organization_id=request.organization_id,
                request=request,
                version=v,
                attached_by_label=label,
            )
            for v in versions
        ],
        ignore_conflicts=True,  # attaching a version twice keeps one
    )
    request.status = RequestStatus.ANSWERED
    request.answered_at = now
    request.updated_at = now
    if note:
        request.answer_note = note
    request.save(update_fields=["status", "answered_at", "updated_at", "answer_note"])
    _log(membership, request, "request.answer", versions=[v.pk for v in versions])


def request_answer(
    *,
    membership: Membership,
    request: InfoRequest,
    version_ids: Iterable[int],
    note: str = "",
) -> InfoRequest:
    """Attach evidence versions of in-scope controls (and a note): the request is answered."""
    note = _answer_checks(membership, request, note)
    versions = _chosen_versions(request, version_ids)
    with transaction.atomic():
        _attach(membership, request, versions, note)
    return request


def request_accept(*, membership: Membership, request: InfoRequest) -> InfoRequest:
    permissions.require(membership, Action.REQUEST_RAISE)
    require_audit_access(membership, request.audit)
    if request.status != RequestStatus.ANSWERED:
        raise ValidationFailed("Only an answered request can be accepted.")
    now = timezone.now()
    with transaction.atomic():
        request.status = RequestStatus.ACCEPTED
        request.accepted_at = request.updated_at = now
        request.save(update_fields=["status", "accepted_at", "updated_at"])
        _log(membership, request, "request.accept")
    return request


def request_reopen(*, membership: Membership, request: InfoRequest, reason: str) -> InfoRequest:
    """The answer is not enough: back to open, with the reason as a comment."""
    permissions.require(membership, Action.REQUEST_RAISE)
    require_audit_access(membership, request.audit)
    if request.status == RequestStatus.OPEN:
        raise ValidationFailed("This request is open already.")
    reason = _text(reason, field="body", limit=MAX_TEXT, required=True, what="what is missing")
    with transaction.atomic():
        request.status = RequestStatus.OPEN
        request.accepted_at = None
        request.updated_at = timezone.now()
        request.save(update_fields=["status", "accepted_at", "updated_at"])
        _comment(membership, request, reason)
        _log(membership, request, "request.reopen")
    return request


def _comment(membership: Membership, request: InfoRequest, body: str) -> RequestComment:
    return RequestComment.objects.create(
        organization_id=request.organization_id,
        request=request,
        author=membership,
        author_label=Actor.for_principal(membership).label[:200],
        from_auditor=membership.role == Role.AUDITOR,
        body=body,
    )


def comment_add(*, membership: Membership, request: InfoRequest, body: str) -> RequestComment:
    permissions.require(membership, Action.COMMENT)
    require_audit_access(membership, request.audit)
    body = _text(body, field="body", limit=MAX_TEXT, required=True, what="a comment")
    with transaction.atomic():
        comment = _comment(membership, request, body)
        InfoRequest.objects.for_org(request.organization_id).filter(pk=request.pk).update(
            updated_at=comment.created_at
        )
        _log(membership, request, "request.comment")
    return comment
