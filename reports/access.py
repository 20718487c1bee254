"""Auditor portal access: which auditor memberships see which audit (writes)."""

from __future__ import annotations

from django.db import transaction

from controls.models import Audit
from reports.models import AuditorAccess
from soc2app.errors import NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Role
from tenants.permissions import Action


def auditor_access_grant(
    *, membership: Membership, auditor: Membership, audit: Audit
) -> AuditorAccess:
    """Let an auditor membership of the organization see ``audit`` in the auditor portal
    (granting twice changes nothing and logs nothing)."""
    permissions.require(membership, Action.MEMBER_MANAGE)
    org_id = membership.organization_id
    if audit.organization_id != org_id:
        raise NotFound("No such audit.")
    if auditor.organization_id != org_id:
        raise NotFound("No such member.")
    if auditor.role != Role.AUDITOR:
        raise ValidationFailed(
            "Only members with the auditor role can be given portal access.", field="membership"
        )
    if not auditor.is_active:
        raise ValidationFailed(
            "This auditor's membership has expired; invite them again first.", field="membership"
        )
    with transaction.atomic():
        access, created = AuditorAccess.objects.for_org(org_id).get_or_create(
            organization_id=org_id,
            membership=auditor,
            audit=audit,
            defaults={"granted_by_id": getattr(membership, "user_id", None)},
        )
        if created:
            activity_record(
                organization=membership.organization,
                actor=Actor.for_principal(membership),
                action="auditor_access.grant",
                target=access,
                object_repr=f"{auditor.user.email} → {audit.name}"[:200],
            )
    return access


def auditor_access_revoke(*, membership: Membership, access: AuditorAccess) -> None:
    """End an auditor's access to one audit (the row goes; the activity log keeps it)."""
    permissions.require(membership, Action.MEMBER_MANAGE)
    if access.organization_id != membership.organization_id:
        raise NotFound("No such access.")
    with transaction.atomic():
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="auditor_access.revoke",
            target=access,
            object_repr=f"{access.membership.user.email} → {access.audit.name}"[:200],
        )
        AuditorAccess.objects.for_org(access.organization_id).filter(pk=access.pk).delete()


def portal_personal_data_record(
    *,
    membership: Membership,
    action: str,
    target: object,
    object_repr: str,
    changes: dict[str, list[object]] | None = None,
) -> None:
    """Log that a portal reader took records away (a certificate downloaded, the acceptance
    records exported; a vendor's document, a risk assessment's file, the register or vendor
    export, ``reports.portal_files``): who saw what is part of the audit trail."""
    permissions.require(membership, Action.VIEW)
    with transaction.atomic():
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action=action,
            target=target,
            object_repr=object_repr[:200],
            changes=changes,
        )
