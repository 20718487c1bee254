"""The one place that answers "may this membership do this action?".

Views, API views, services and templates all ask ``can`` / ``require``; nothing else compares
roles. Auditors are read-only by construction: no write action is granted to them here, except
raising and commenting on their own requests for information, drawing samples and recording
test results (on the audits they were granted, checked by the services).
"""

from __future__ import annotations

from enum import StrEnum

from soc2app.errors import NotPermitted
from tenants.models import Membership, Role


class Action(StrEnum):
    VIEW = "view"
    ORG_MANAGE = "org.manage"
    # Turning segregation of duties off lets people accept their own evidence: owners only.
    REVIEW_POLICY_MANAGE = "org.review_policy"
    MEMBER_MANAGE = "member.manage"
    ACTIVITY_VIEW = "activity.view"
    APIKEY_MANAGE = "apikey.manage"
    WEBHOOK_MANAGE = "webhook.manage"
    CONTROL_MANAGE = "control.manage"
    CONTROL_EDIT_OWN = "control.edit_own"
    AUDIT_MANAGE = "audit.manage"
    EVIDENCE_SUBMIT = "evidence.submit"
    EVIDENCE_REVIEW = "evidence.review"
    REPORT_GENERATE = "report.generate"
    REQUEST_RAISE = "request.raise"
    REQUEST_ANSWER = "request.answer"
    COMMENT = "comment"
    # Type 2 samples: drawing one (auditors and managers), recording a test result (auditors).
    SAMPLE_DRAW = "sample.draw"
    SAMPLE_TEST = "sample.test"
    # Continuous monitoring: connections (credentials) are admins'; pushing a test's results
    # (a CI job's key) is also a compliance manager's.
    CONNECTION_MANAGE = "connection.manage"
    RESULTS_PUSH = "results.push"
    # Starting a connection's run, testing it, reading its runs and raw output: what the
    # people running the program (compliance managers) need; no configuration, no secret.
    RUN_START = "run.start"
    # Policies: adopting, writing and sending for approval (approving is the named approver's).
    POLICY_MANAGE = "policy.manage"
    # The personnel roster (personal data): managers only, and their keys.
    PEOPLE_MANAGE = "people.manage"
    # Marking a joiner's or leaver's checklist item done: managers any, contributors theirs
    # (the service checks the item's owner for them).
    CHECKLIST_ITEM_DONE = "checklist.item_done"
    # The risk register: managers only for now (reading too); the auditor portal comes later.
    RISK_MANAGE = "risk.manage"
    # The vendor inventory, its documents and reviews: managers and their keys.
    VENDOR_MANAGE = "vendor.manage"
    # Single sign-on (``sso``): who may sign in, and whether passwords still work: owners only.
    SSO_MANAGE = "sso.manage"
    # SCIM provisioning (``scim``): its tokens create and deactivate members, so owners only.
    SCIM_MANAGE = "scim.manage"
    # Reading the trust center's settings, documents and visitors' requests (personal data):
    # owners, admins and admin keys. Changing them is ORG_MANAGE (people only).
    TRUST_VIEW = "trust.view"


_MANAGER_ACTIONS = frozenset(
    {
        Action.VIEW,
        Action.ACTIVITY_VIEW,
        Action.MEMBER_MANAGE,
        Action.CONTROL_MANAGE,
        Action.CONTROL_EDIT_OWN,
        Action.AUDIT_MANAGE,
        Action.EVIDENCE_SUBMIT,
        Action.EVIDENCE_REVIEW,
        Action.REPORT_GENERATE,
        Action.REQUEST_ANSWER,
        Action.COMMENT,
        Action.SAMPLE_DRAW,
        Action.RESULTS_PUSH,
        Action.RUN_START,
        Action.POLICY_MANAGE,
        Action.PEOPLE_MANAGE,
        Action.CHECKLIST_ITEM_DONE,
        Action.RISK_MANAGE,
        Action.VENDOR_MANAGE,
    }
)
_ADMIN_ACTIONS = _MANAGER_ACTIONS | {
    Action.CONNECTION_MANAGE,
    Action.ORG_MANAGE,
    Action.APIKEY_MANAGE,
    Action.WEBHOOK_MANAGE,
    Action.TRUST_VIEW,
}

# The one API-key role that is not a membership role (see tenants.models.ApiKeyRole).
READ_ONLY = "read_only"

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.OWNER: _ADMIN_ACTIONS
    | {Action.REVIEW_POLICY_MANAGE, Action.SCIM_MANAGE, Action.SSO_MANAGE},
    Role.ADMIN: _ADMIN_ACTIONS,
    Role.COMPLIANCE_MANAGER: _MANAGER_ACTIONS,
    Role.CONTRIBUTOR: frozenset(
        {
            Action.VIEW,
            Action.CONTROL_EDIT_OWN,
            Action.EVIDENCE_SUBMIT,
            Action.COMMENT,
            Action.CHECKLIST_ITEM_DONE,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Action.VIEW,
            Action.REQUEST_RAISE,
            Action.COMMENT,
            Action.SAMPLE_DRAW,
            Action.SAMPLE_TEST,
        }
    ),
    READ_ONLY: frozenset({Action.VIEW}),
}

WRITE_ACTIONS = frozenset(Action) - {Action.VIEW, Action.ACTIVITY_VIEW, Action.TRUST_VIEW}
# Who belongs to the organization is decided by people: a key (even an admin's) can neither
# invite nor change roles. (Keys and webhooks refuse keys in their own services.)
_PEOPLE_ONLY = frozenset(
    {
        Action.MEMBER_MANAGE,
        Action.ORG_MANAGE,
        Action.REVIEW_POLICY_MANAGE,
        Action.SCIM_MANAGE,
        Action.SSO_MANAGE,
    }
)


def _is_api_key(principal: object) -> bool:
    # Keys own no controls; their pk is not a membership id and must never match ``owner_id``.
    return getattr(principal, "is_api_key", False)


def can(membership: Membership | None, action: Action) -> bool:
    """``membership`` is any principal: a Membership or an API key (``role``, ``is_active``)."""
    if membership is None or not membership.is_active:
        return False
    if action in _PEOPLE_ONLY and _is_api_key(membership):
        return False
    return action in ROLE_ACTIONS.get(membership.role, frozenset())


def require(membership: Membership | None, action: Action) -> None:
    if not can(membership, action):
        raise NotPermitted("Your role in this organization does not allow this action.")


# Roles a member may hand out (and may change or remove): never one above their own.
_GRANTABLE: dict[str, tuple[str, ...]] = {
    Role.OWNER: tuple(Role.values),
    Role.ADMIN: (Role.ADMIN, Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR),
    Role.COMPLIANCE_MANAGER: (Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR),
}


def grantable_roles(membership: Membership | None) -> list[str]:
    """Roles this member may hand out in invitations and role changes."""
    if not can(membership, Action.MEMBER_MANAGE):
        return []
    return list(_GRANTABLE.get(membership.role, ()))


def can_manage_member(membership: Membership | None, target: Membership) -> bool:
    """May ``membership`` change the role of, or remove, ``target``?"""
    return target.role in grantable_roles(membership)


def can_edit_control(membership: Membership | None, control: object) -> bool:
    """Managers edit every control; contributors only the controls they own."""
    if can(membership, Action.CONTROL_MANAGE):
        return True
    return (
        can(membership, Action.CONTROL_EDIT_OWN)
        and membership is not None
        and not _is_api_key(membership)
        and getattr(control, "owner_id", None) == membership.pk
    )


def can_submit_evidence(membership: Membership | None, control: object) -> bool:
    if not can(membership, Action.EVIDENCE_SUBMIT):
        return False
    if _is_api_key(membership):
        # An integration (CI, a scanner) pushes evidence for any control of its organization.
        return getattr(control, "organization_id", None) == membership.organization_id
    return (
        can(membership, Action.CONTROL_MANAGE)
        or getattr(control, "owner_id", None) == membership.pk
    )


def require_control_edit(membership: Membership | None, control: object) -> None:
    if not can_edit_control(membership, control):
        raise NotPermitted(
            "Only a compliance manager or the control's owner can change this control."
        )


def require_evidence_submit(membership: Membership | None, control: object) -> None:
    if not can_submit_evidence(membership, control):
        raise NotPermitted(
            "Only a compliance manager or the control's owner can add evidence to it."
        )
