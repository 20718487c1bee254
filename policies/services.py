"""Write services of policies: adopting from the library, writing a version, sending it to
the named approver, approving (then immutable) or returning it, and starting the next.

Rules:
* managers (``Action.POLICY_MANAGE``) adopt, write, send and name the approver; the approver
  is any active member but an auditor;
* only the named approver approves, and never a version whose text they last changed
  (segregation of duties); approving records the SHA-256 of the Markdown, who and when, and
  moves the review date by the policy's cadence, and records the approval as evidence on the
  controls the policy supports (``policies.evidence``);
* one version at a time is being written or reviewed; an approved one never changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from controls.models import Control
from controls.periods import add_months
from policies.acceptance import links_queue
from policies.evidence import approval_evidence_record
from policies.library import LibraryPolicy, library_get
from policies.markdown import MAX_BODY, text_sha256
from policies.models import (
    OPEN_STATES,
    Policy,
    PolicyAssignment,
    PolicyControl,
    PolicyVersion,
    VersionState,
)
from soc2app.errors import Conflict, NotPermitted, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Role
from tenants.permissions import Action

MAX_POLICIES = 200


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n")
    if not body.strip():
        raise ValidationFailed("Write the policy's text.", field="body")
    if len(body) > MAX_BODY or "\x00" in body:
        raise ValidationFailed(
            f"Keep the policy under {MAX_BODY:,} characters of plain text.", field="body"
        )
    return body


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ValidationFailed("Give the policy a title of at most 200 characters.", field="title")
    return title


def _check_approver(org: object, approver: Membership | None) -> None:
    if approver is None:
        return
    if approver.organization_id != org.pk or not approver.is_active:
        raise ValidationFailed("Choose an approver from this organization.", field="approver")
    if approver.role == Role.AUDITOR:
        raise ValidationFailed("An auditor cannot approve policies.", field="approver")


def _link_controls(policy: Policy, codes: Sequence[str]) -> int:
    org = policy.organization
    controls = list(Control.objects.for_org(org).filter(code__in=codes))
    PolicyControl.objects.bulk_create(
        [PolicyControl(organization=org, policy=policy, control=c) for c in controls],
        ignore_conflicts=True,
    )
    return len(controls)


def policy_adopt(*, membership: Membership, key: str) -> Policy:
    """A library policy as version 1, in draft, linked to the organization's controls whose
    codes the library names."""
    permissions.require(membership, Action.POLICY_MANAGE)
    entry: LibraryPolicy | None = library_get(key)
    if entry is None:
        raise ValidationFailed("No such policy in the library.", field="key")
    org = membership.organization
    if Policy.objects.for_org(org).filter(library_key=entry.key).exists():
        raise Conflict(f"{entry.title} is adopted already.")
    return _create(
        membership,
        title=entry.title,
        summary=entry.summary,
        body=entry.body,
        library_key=entry.key,
        cadence=entry.review_cadence_months,
        criteria=list(entry.criteria),
        control_codes=entry.controls,
        note=f"Adopted from the library (version {entry.version})",
    )


def policy_create(*, membership: Membership, title: str, body: str, summary: str = "") -> Policy:
    """A policy written from scratch."""
    permissions.require(membership, Action.POLICY_MANAGE)
    return _create(
        membership,
        title=_clean_title(title),
        summary=(summary or "").strip()[:300],
        body=_clean_body(body),
        library_key="",
        cadence=12,
        criteria=[],
        control_codes=(),
        note="Written from scratch",
    )


def _create(
    membership, *, title, summary, body, library_key, cadence, criteria, control_codes, note
):
    org = membership.organization
    if Policy.objects.for_org(org).count() >= MAX_POLICIES:
        raise ValidationFailed(f"An organization can have at most {MAX_POLICIES} policies.")
    if Policy.objects.for_org(org).filter(title=title).exists():
        raise Conflict(f"A policy named {title!r} exists already.", code="duplicate")
    actor = Actor.for_principal(membership)
    try:
        with transaction.atomic():
            policy = Policy.objects.create(
                organization=org,
                title=title,
                summary=summary,
                library_key=library_key,
                owner=membership if not getattr(membership, "is_api_key", False) else None,
                review_cadence_months=cadence,
                criteria=criteria,
            )
            linked = _link_controls(policy, control_codes)
            version = PolicyVersion.objects.create(
                organization=org,
                policy=policy,
                number=1,
                body=body,
                change_note=note,
                edited_by_id=actor.user_id,
                edited_by_label=actor.label[:200],
            )
            activity_record(
                organization=org,
                actor=actor,
                action="create",
                target=policy,
                changes={"library_key": [None, library_key], "controls_linked": [None, linked]},
            )
    except IntegrityError as exc:  # a concurrent adoption of the same entry or title
        raise Conflict(f"{title} exists already.", code="duplicate") from exc
    policy.open_version = version
    return policy


def policy_settings(
    *,
    membership: Membership,
    policy: Policy,
    owner: Membership | None,
    approver: Membership | None,
    review_cadence_months: int,
) -> Policy:
    permissions.require(membership, Action.POLICY_MANAGE)
    org = membership.organization
    _check_approver(org, approver)
    if owner is not None and owner.organization_id != org.pk:
        raise ValidationFailed("Choose an owner from this organization.", field="owner")
    if not 1 <= int(review_cadence_months) <= 36:
        raise ValidationFailed("Review every 1 to 36 months.", field="review_cadence_months")
    before = {
        "owner": policy.owner_id,
        "approver": policy.approver_id,
        "review_cadence_months": policy.review_cadence_months,
    }
    policy.owner, policy.approver = owner, approver
    policy.review_cadence_months = int(review_cadence_months)
    after = {
        "owner": policy.owner_id,
        "approver": policy.approver_id,
        "review_cadence_months": policy.review_cadence_months,
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        with transaction.atomic():
            policy.save(update_fields=["owner", "approver", "review_cadence_months"])
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="update",
                target=policy,
                changes=changes,
            )
    return policy


def _locked_version(policy: Policy, version: PolicyVersion) -> PolicyVersion:
    return (
        PolicyVersion.objects.for_org(policy.organization)
        .select_for_update()
        .get(pk=version.pk, policy=policy)
    )


def version_edit(
    *, membership: Membership, version: PolicyVersion, body: str, change_note: str = ""
) -> PolicyVersion:
    """Change a draft's text (a version awaiting approval is returned by its approver first)."""
    permissions.require(membership, Action.POLICY_MANAGE)
    body = _clean_body(body)
    actor = Actor.for_principal(membership)
    with transaction.atomic():
        version = _locked_version(version.policy, version)
        if version.state != VersionState.DRAFT:
            raise Conflict(
                "Only a draft can be edited"
                + (
                    ": ask the approver to return it first."
                    if version.state == "in_review"
                    else "."
                )
            )
        old_hash = text_sha256(version.body)
        version.body, version.change_note = body, (change_note or "").strip()[:300]
        version.edited_by_id, version.edited_by_label = actor.user_id, actor.label[:200]
        version.updated_at = timezone.now()
        version.save(
            update_fields=["body", "change_note", "edited_by", "edited_by_label", "updated_at"]
        )
        activity_record(
            organization=version.organization,
            actor=actor,
            action="update",
            target=version,
            object_repr=f"{version.policy.title} v{version.number}",
            changes={"text_sha256": [old_hash, text_sha256(body)]},
        )
    return version


def version_submit(*, membership: Membership, version: PolicyVersion) -> PolicyVersion:
    permissions.require(membership, Action.POLICY_MANAGE)
    policy = version.policy
    if policy.approver_id is None:
        raise ValidationFailed("Name the policy's approver first (Settings).", field="approver")
    return _transition(
        membership, version, VersionState.DRAFT, VersionState.IN_REVIEW, "submit", return_note=""
    )


def version_return(*, membership: Membership, version: PolicyVersion, note: str) -> PolicyVersion:
    """The approver sends a version back to draft, saying why."""
    _require_approver(membership, version.policy)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("Say what should change.", field="note")
    return _transition(
        membership,
        version,
        VersionState.IN_REVIEW,
        VersionState.DRAFT,
        "return",
        return_note=note[:2000],
    )


def _require_approver(membership: Membership, policy: Policy) -> None:
    if getattr(membership, "is_api_key", False) or policy.approver_id != membership.pk:
        raise NotPermitted("Only the policy's named approver can approve or return it.")
    if not membership.is_active or membership.role == Role.AUDITOR:
        raise NotPermitted("Only the policy's named approver can approve or return it.")


def _transition(membership, version, from_state, to_state, action, **fields):
    with transaction.atomic():
        version = _locked_version(version.policy, version)
        if version.state != from_state:
            raise Conflict(
                f"This version is {version.get_state_display().lower()}; reload the page."
            )
        version.state = to_state
        if to_state == VersionState.IN_REVIEW:
            version.submitted_at = timezone.now()
        for name, value in fields.items():
            setattr(version, name, value)
        version.save(update_fields=["state", "submitted_at", *fields])
        activity_record(
            organization=version.organization,
            actor=Actor.for_principal(membership),
            action=action,
            target=version,
            object_repr=f"{version.policy.title} v{version.number}",
            changes={"state": [from_state, to_state]},
        )
    return version


def version_approve(*, membership: Membership, version: PolicyVersion) -> PolicyVersion:
    policy = version.policy
    _require_approver(membership, policy)
    actor = Actor.for_principal(membership)
    with transaction.atomic():
        version = _locked_version(policy, version)
        if version.state != VersionState.IN_REVIEW:
            raise Conflict("Only a version awaiting approval can be approved; reload the page.")
        if version.edited_by_id is not None and version.edited_by_id == membership.user_id:
            raise NotPermitted(
                "You wrote this version's text: another person approves it (name another "
                "approver in the policy's settings)."
            )
        now = timezone.now()
        version.state, version.sha256 = VersionState.APPROVED, text_sha256(version.body)
        version.approved_by_id, version.approved_by_label = actor.user_id, actor.label[:200]
        version.approved_at = now
        version.save(
            update_fields=["state", "sha256", "approved_by", "approved_by_label", "approved_at"]
        )
        policy.next_review_date = add_months(timezone.localdate(now), policy.review_cadence_months)
        policy.save(update_fields=["next_review_date"])
        activity_record(
            organization=policy.organization,
            actor=actor,
            action="approve",
            target=version,
            object_repr=f"{policy.title} v{version.number}",
            changes={
                "state": [VersionState.IN_REVIEW, VersionState.APPROVED],
                "sha256": [None, version.sha256],
                "next_review_date": [None, policy.next_review_date],
            },
        )
        # Evidence of the approval on the controls the policy supports, in this transaction.
        approval_evidence_record(policy=policy, version=version)
        if PolicyAssignment.objects.for_org(policy.organization).filter(policy=policy).exists():
            links_queue(policy)  # the new version asks everyone again
    return version


def version_start(*, membership: Membership, policy: Policy) -> PolicyVersion:
    """The next version, in draft, from the current approved text (the review of a policy
    that needs no change is approving this copy as it is)."""
    permissions.require(membership, Action.POLICY_MANAGE)
    actor = Actor.for_principal(membership)
    org = policy.organization
    try:
        with transaction.atomic():
            versions = PolicyVersion.objects.for_org(org).select_for_update().filter(policy=policy)
            if versions.filter(state__in=OPEN_STATES).exists():
                raise Conflict("A new version is being written already.")
            latest = versions.order_by("-number").first()
            version = PolicyVersion.objects.create(
                organization=org,
                policy=policy,
                number=(latest.number + 1) if latest else 1,
                body=latest.body if latest else "",
                change_note="",
                edited_by_id=actor.user_id,
                edited_by_label=actor.label[:200],
            )
            activity_record(
                organization=org,
                actor=actor,
                action="create",
                target=version,
                object_repr=f"{policy.title} v{version.number}",
            )
    except IntegrityError as exc:
        raise Conflict("A new version is being written already.") from exc
    return version


def policy_delete(*, membership: Membership, policy: Policy) -> None:
    """Only a policy never approved: an approved version is a record auditors rely on."""
    permissions.require(membership, Action.POLICY_MANAGE)
    org = policy.organization
    with transaction.atomic():
        if (
            PolicyVersion.objects.for_org(org)
            .filter(policy=policy, state=VersionState.APPROVED)
            .exists()
        ):
            raise Conflict("A policy with an approved version cannot be deleted.")
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="delete",
            target=policy,
        )
        policy.delete()
