"""Write services for memberships: adding, changing a role, removing.

Removing a member also withdraws the access they handed out (their pending invitations and the
API keys they created), in the same transaction: access must not outlive the person who granted
it. Re-exported by ``tenants.services``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import ApiKey, Invitation, InvitationStatus, Membership, Organization, Role
from tenants.permissions import Action
from tenants.selectors import CREATED_CREDENTIALS, Grants, grants_of
from tenants.validation import access_end_check

AUDITOR_DEFAULT_ACCESS_DAYS = 90


def _owners_left_after(target: Membership) -> int:
    return (
        Membership.objects.for_org(target.organization_id)
        .filter(role=Role.OWNER)
        .exclude(pk=target.pk)
        .count()
    )


def _check_can_manage(membership: Membership, target: Membership) -> None:
    permissions.require(membership, Action.MEMBER_MANAGE)
    if target.organization_id != membership.organization_id:
        raise NotFound("Member not found.")
    if not permissions.can_manage_member(membership, target):
        raise NotPermitted("Your role cannot change or remove a member with this role.")


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _withdraw(org: Organization, actor: Actor, grants: Grants, now: dt.datetime, why: str) -> None:
    """Withdraw ``grants`` (pending invitations, active API keys), one entry each."""
    Invitation.objects.for_org(org).filter(
        pk__in=[i.pk for i in grants.invitations], status=InvitationStatus.PENDING
    ).update(status=InvitationStatus.REVOKED)
    ApiKey.objects.for_org(org).filter(
        pk__in=[k.pk for k in grants.api_keys], revoked_at__isnull=True
    ).update(revoked_at=now)
    for row in grants.credentials:
        type(row).objects.for_org(org).filter(pk=row.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
    for invitation in grants.invitations:
        invitation.status = InvitationStatus.REVOKED
        activity_record(
            organization=org,
            actor=actor,
            action="revoke",
            target=invitation,
            changes={
                "status": [InvitationStatus.PENDING, InvitationStatus.REVOKED],
                "reason": [None, f"sender {why}"],
            },
        )
    for key in [*grants.api_keys, *grants.credentials]:
        key.revoked_at = now
        activity_record(
            organization=org,
            actor=actor,
            action="revoke",
            target=key,
            changes={
                "revoked_at": [None, now.isoformat()],
                "reason": [None, f"creator {why}"],
            },
        )


def _withdrawn_changes(grants: Grants) -> dict[str, list]:
    """Field-style [before, after] pairs for the member's own entry, as the activity page
    shows them."""
    changes: dict[str, list] = {}
    if grants.invitations:
        changes["invitations_withdrawn"] = [None, ", ".join(i.email for i in grants.invitations)]
    if grants.api_keys:
        keys = ", ".join(f"{k.name} ({k.prefix})" for k in grants.api_keys)
        changes["api_keys_revoked"] = [None, keys]
    for model in CREATED_CREDENTIALS:
        rows = [c for c in grants.credentials if type(c) is model]
        if rows:
            key = str(model._meta.verbose_name_plural).replace(" ", "_") + "_revoked"
            changes[key] = [None, ", ".join(f"{c.name} ({c.prefix})" for c in rows)]
    return changes


def beyond_role(target: Membership, role: str) -> Grants:
    """What ``target`` handed out that ``role`` could not: API keys once the role may not
    manage keys (other credentials likewise, e.g. SCIM tokens below owner), pending
    invitations to roles it may not grant. A role change withdraws them."""
    grants = grants_of(target)
    probe = Membership(organization_id=target.organization_id, user_id=target.user_id, role=role)
    grantable = set(permissions.grantable_roles(probe))
    keys_ok = permissions.can(probe, Action.APIKEY_MANAGE)
    return Grants(
        invitations=[i for i in grants.invitations if i.role not in grantable],
        api_keys=[] if keys_ok else grants.api_keys,
        credentials=[
            c
            for c in grants.credentials
            if not permissions.can(probe, CREATED_CREDENTIALS[type(c)])
        ],
    )


def membership_change_role(
    *,
    membership: Membership,
    target: Membership,
    role: str,
    access_expires_at: dt.datetime | None = None,
) -> Grants:
    """Give ``target`` another role. An auditor's access always ends: at ``access_expires_at``,
    else at the end they already have, else ``AUDITOR_DEFAULT_ACCESS_DAYS`` from now. Returns
    what the change withdrew (``beyond_role``)."""
    _check_can_manage(membership, target)
    if role not in permissions.grantable_roles(membership):
        raise ValidationFailed("You cannot give this role.", field="role")
    if target.role == Role.OWNER and role != Role.OWNER and _owners_left_after(target) == 0:
        raise ValidationFailed("An organization needs at least one owner.", field="role")
    access_end_check(access_expires_at, field="access_until")
    if role == Role.AUDITOR:
        expires_at = (
            access_expires_at
            or (target.expires_at if target.role == Role.AUDITOR else None)
            or timezone.now() + dt.timedelta(days=AUDITOR_DEFAULT_ACCESS_DAYS)
        )
    else:
        expires_at = None
    org = membership.organization
    actor = Actor.for_user(membership.user)
    with transaction.atomic():
        # Access must not outlive the authority that granted it: a demotion withdraws what the
        # new role could not have handed out, in the same transaction.
        withdrawn = beyond_role(target, role)
        _withdraw(org, actor, withdrawn, timezone.now(), why=f"{target.user.email} now {role}")
        before = snapshot(target, ["role"]) | {"expires_at": _iso(target.expires_at)}
        target.role = role
        target.expires_at = expires_at
        target.save(update_fields=["role", "expires_at"])
        after = snapshot(target, ["role"]) | {"expires_at": _iso(expires_at)}
        activity_record(
            organization=org,
            actor=actor,
            action="update",
            target=target,
            object_repr=target.user.email,
            changes=diff(before, after) | _withdrawn_changes(withdrawn),
        )
    return withdrawn


def membership_remove(*, membership: Membership, target: Membership) -> Grants:
    """Remove ``target``, withdraw their pending invitations and revoke the API keys they
    created; returns what was withdrawn (also listed in the activity log)."""
    _check_can_manage(membership, target)
    if target.role == Role.OWNER and _owners_left_after(target) == 0:
        raise ValidationFailed("An organization needs at least one owner.")
    org = membership.organization
    actor = Actor.for_user(membership.user)
    now = timezone.now()
    with transaction.atomic():
        # Read inside the transaction, then update exactly those rows: the entry lists
        # precisely what this removal withdrew.
        grants = grants_of(target)
        _withdraw(org, actor, grants, now, why=f"{target.user.email} removed")
        changes: dict[str, list] = {"role": [target.role, None]} | _withdrawn_changes(grants)
        activity_record(
            organization=org,
            actor=actor,
            action="delete",
            target=target,
            object_repr=target.user.email,
            changes=changes,
        )
        target.delete()
    return grants


def membership_add(
    *,
    organization: Organization,
    user: AbstractBaseUser,
    role: str,
    actor: Actor,
    expires_at: dt.datetime | None = None,
) -> Membership:
    """Add ``user`` to ``organization`` directly (command line and seeding; people use invitations).

    Idempotent: an existing membership is returned unchanged.
    """
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}.", field="role")
    with transaction.atomic():
        existing = Membership.objects.for_org(organization).filter(user=user).first()
        if existing is not None:
            return existing
        membership = Membership(
            organization=organization, user=user, role=role, expires_at=expires_at
        )
        membership.save()
        activity_record(
            organization=organization,
            actor=actor,
            action="create",
            target=membership,
            object_repr=f"{user.email} as {membership.get_role_display()}",
            changes={"role": [None, role]},
        )
    return membership


# --- Provisioning (an identity provider, through ``scim``) ----------------------------------
# The provider is not a member: these take the organization and an ``Actor``, and the caller
# (the SCIM layer) has already checked its token. They never create or touch owners' and
# admins' roles; a deactivation keeps the last active owner.


def _active_owners_left_after(target: Membership) -> int:
    now = timezone.now()
    return (
        Membership.objects.for_org(target.organization_id)
        .filter(role=Role.OWNER)
        .filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))
        .exclude(pk=target.pk)
        .count()
    )


def _locked(target: Membership) -> Membership:
    return (
        Membership.objects.for_org(target.organization_id)
        .select_for_update()
        .select_related("user")
        .get(pk=target.pk)
    )


def _member_entry(actor: Actor, action: str, target: Membership, changes: dict) -> None:
    activity_record(
        organization=target.organization,
        actor=actor,
        action=action,
        target=target,
        object_repr=target.user.email,
        changes=changes,
    )


def membership_deactivate(*, target: Membership, actor: Actor, why: str) -> Grants:
    """End ``target``'s access now (``expires_at``: every access check already reads it, the
    session's next request included) and withdraw what they handed out, as a removal does.
    The membership itself stays, so it can be reactivated. Idempotent."""
    org = target.organization
    with transaction.atomic():
        target = _locked(target)
        if not target.is_active:
            return Grants(invitations=[], api_keys=[])
        if target.role == Role.OWNER and _active_owners_left_after(target) == 0:
            raise ValidationFailed(
                "This is the organization's last active owner: add another owner in the app "
                "before deactivating them.",
                code="last_owner",
            )
        now = timezone.now()
        grants = grants_of(target)
        _withdraw(org, actor, grants, now, why=f"{target.user.email} deactivated")
        target.expires_at = now
        target.save(update_fields=["expires_at"])
        changes = {"active": [True, False], "reason": [None, why]} | _withdrawn_changes(grants)
        _member_entry(actor, "deactivate", target, changes)
    return grants


def membership_reactivate(
    *, target: Membership, actor: Actor, why: str, until: dt.datetime | None = None
) -> Membership:
    """Give a deactivated member their access back (their role unchanged; what the
    deactivation withdrew stays withdrawn), until ``until`` (the end they had before, if any).
    Auditors' access ends by design: not here. The caller decides whether this deactivation
    is one it may undo (``scim.services``)."""
    if target.role == Role.AUDITOR:
        raise ValidationFailed("An auditor's access is renewed by an invitation, not here.")
    with transaction.atomic():
        target = _locked(target)
        if target.is_active:
            return target
        before = _iso(target.expires_at)
        target.expires_at = until
        target.save(update_fields=["expires_at"])
        changes = {
            "active": [False, True],
            "expires_at": [before, _iso(until)],
            "reason": [None, why],
        }
        _member_entry(actor, "reactivate", target, changes)
    return target


PROVISIONED_ROLES = (Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR)


def membership_provision_role(*, target: Membership, role: str, actor: Actor) -> Grants:
    """Move ``target`` between the roles a provider may hand out (``PROVISIONED_ROLES``),
    withdrawing what the new role could not have granted, as ``membership_change_role`` does."""
    if role not in PROVISIONED_ROLES or target.role not in PROVISIONED_ROLES:
        raise NotPermitted(
            "Provisioning only moves members between compliance manager and contributor; "
            "owners' and admins' roles are changed in the app.",
            code="role_not_provisioned",
        )
    org = target.organization
    with transaction.atomic():
        target = _locked(target)
        if target.role == role:
            return Grants(invitations=[], api_keys=[])
        withdrawn = beyond_role(target, role)
        _withdraw(org, actor, withdrawn, timezone.now(), why=f"{target.user.email} now {role}")
        before = target.role
        target.role = role
        target.save(update_fields=["role"])
        changes = {"role": [before, role]} | _withdrawn_changes(withdrawn)
        _member_entry(actor, "update", target, changes)
    return withdrawn
