"""Write services for memberships: adding, changing a role, removing.

Removing a member also withdraws the access they handed out (their pending invitations and the
API keys they created), in the same transaction: access must not outlive the person who granted
it. Re-exported by ``tenants.services``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import ApiKey, Invitation, InvitationStatus, Membership, Organization, Role
from tenants.permissions import Action
from tenants.selectors import Grants, grants_of
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


def membership_change_role(
    *,
    membership: Membership,
    target: Membership,
    role: str,
    access_expires_at: dt.datetime | None = None,
) -> Membership:
    """Give ``target`` another role. An auditor's access always ends: at ``access_expires_at``,
    else at the end they already have, else ``AUDITOR_DEFAULT_ACCESS_DAYS`` from now."""
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
    with transaction.atomic():
        before = snapshot(target, ["role"]) | {"expires_at": _iso(target.expires_at)}
        target.role = role
        target.expires_at = expires_at
        target.save(update_fields=["role", "expires_at"])
        activity_record(
            organization=membership.organization,
            actor=Actor.for_user(membership.user),
            action="update",
            target=target,
            object_repr=target.user.email,
            changes=diff(before, snapshot(target, ["role"]) | {"expires_at": _iso(expires_at)}),
        )
    return target


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
        Invitation.objects.for_org(org).filter(
            pk__in=[i.pk for i in grants.invitations], status=InvitationStatus.PENDING
        ).update(status=InvitationStatus.REVOKED)
        ApiKey.objects.for_org(org).filter(
            pk__in=[k.pk for k in grants.api_keys], revoked_at__isnull=True
        ).update(revoked_at=now)
        for invitation in grants.invitations:
            activity_record(
                organization=org,
                actor=actor,
                action="revoke",
                target=invitation,
                changes={
                    "status": [InvitationStatus.PENDING, InvitationStatus.REVOKED],
                    "reason": [None, f"sender {target.user.email} removed"],
                },
            )
        for key in grants.api_keys:
            key.revoked_at = now
            activity_record(
                organization=org,
                actor=actor,
                action="revoke",
                target=key,
                changes={
                    "revoked_at": [None, now.isoformat()],
                    "reason": [None, f"creator {target.user.email} removed"],
                },
            )
        changes: dict[str, list] = {"role": [target.role, None]}
        # Field-style [before, after] pairs, as the activity page shows them.
        if grants.invitations:
            emails = ", ".join(i.email for i in grants.invitations)
            changes["invitations_withdrawn"] = [None, emails]
        if grants.api_keys:
            keys = ", ".join(f"{k.name} ({k.prefix})" for k in grants.api_keys)
            changes["api_keys_revoked"] = [None, keys]
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
