"""What an identity provider does to members through SCIM, and the owners' settings for it.

Rules (issue 19):
* a SCIM user is a membership of the token's organization: created without an invitation (the
  account is matched by e-mail or created, password unusable: people sign in through SSO or a
  password reset), with the organization's default role (contributor unless the owners chose
  compliance manager) or a ``roles`` value among those two. SCIM never creates an owner or an
  admin, never changes their roles, and never deactivates the last active owner;
* ``active: false`` (or DELETE) deactivates: access ends at once (``tenants`` reads
  ``expires_at`` on every request) and what the member handed out (pending invitations, API
  keys they created) is withdrawn; ``active: true`` reactivates;
* a user account belongs to every organization it is a member of: its name and e-mail change
  only when this organization's SCIM created the account (``ScimLink.created_account``) and
  this organization is its only one (otherwise the name is left as it is; an e-mail change is
  refused), so an IdP never rewrites an account it merely linked;
* an address SCIM gives an account (a new account's, or a change) is marked verified only in
  one of the organization's verified SSO domains: elsewhere the person proves it (allauth's
  confirmation e-mail) before a password reset or sign-in can use it. The activity entry says
  which (``email_verified``);
* ``active: true`` only undoes a deactivation SCIM made (``ScimLink.deactivated_at`` still
  the membership's end) of a contributor or compliance manager, restoring the end the
  membership had before; an end the app set (an invitation's access end) stays;
* with ``manage_personnel`` on, the roster follows (``scim.personnel``);
* each call is one transaction: a refusal stores nothing, and each change is in the activity
  log with the token as the actor.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from scim import personnel
from scim.models import ProvisionedRole, ProvisioningSettings, ScimLink, ScimToken
from scim.protocol import ScimError
from scim.selectors import provisioning_settings
from soc2app.errors import NotPermitted, ValidationFailed
from sso.selectors import domain_verified_for
from tenants import permissions
from tenants.accounts import user_ensure
from tenants.activity import Actor, activity_record, diff, snapshot
from tenants.models import Membership
from tenants.permissions import Action
from tenants.services_members import (
    PROVISIONED_ROLES,
    membership_add,
    membership_deactivate,
    membership_provision_role,
    membership_reactivate,
)


def _refuse_role(role: str) -> None:
    if role not in PROVISIONED_ROLES:
        raise ScimError(
            400,
            f"SCIM cannot give the role {role!r}: only contributor or compliance_manager. "
            "Owners and admins are appointed in the app.",
            "invalidValue",
        )


def _actor(token: ScimToken) -> Actor:
    return Actor(label=token.label)


def _exclusive(membership: Membership) -> bool:
    """Whether this organization is the only one the account belongs to. The web role sees
    only this organization's rows, so other memberships are counted through the narrow
    definer function ``tenants.lookups`` already uses for a user's own memberships."""
    if connection.vendor != "postgresql":
        others = Membership._base_manager.filter(user_id=membership.user_id)
        return not others.exclude(organization_id=membership.organization_id).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM app_user_memberships(%s) WHERE organization_id <> %s",
            [membership.user_id, membership.organization_id],
        )
        return cursor.fetchone()[0] == 0


def _refuse_address_change(user: Any, why: str) -> None:
    raise ScimError(
        400,
        f"{user.email} {why}: change the address in the app, not through this "
        "organization's provisioning.",
        "mutability",
    )


def _apply_account(
    token: ScimToken, membership: Membership, link: ScimLink, changes: dict[str, Any]
) -> None:
    user = membership.user
    before = {"email": user.email, "first_name": user.first_name, "last_name": user.last_name}
    email = changes.get("user_name")
    owned = None  # whether this organization's SCIM may rewrite the account (read lazily)
    verification = None  # the address's verified state, before and after a change
    if email is not None and email != user.email.lower():
        if not link.created_account:
            _refuse_address_change(user, "is an account this organization's SCIM did not create")
        owned = _exclusive(membership)
        if not owned:
            _refuse_address_change(user, "is also a member of other organizations")
        if get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
            raise ScimError(409, f"Another account uses {email}.", "uniqueness")
        verified = domain_verified_for(membership.organization, email)
        was_verified = EmailAddress.objects.filter(
            user=user, email__iexact=user.email, verified=True
        ).exists()
        EmailAddress.objects.filter(user=user).delete()
        EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
        verification = [was_verified, verified]
        user.email = email
        user.username = email[:150]
    names = {
        k: changes[v]
        for k, v in (("first_name", "given_name"), ("last_name", "family_name"))
        if v in changes
    }
    if names and link.created_account and (owned if owned is not None else _exclusive(membership)):
        for field, value in names.items():
            setattr(user, field, value)
    after = {"email": user.email, "first_name": user.first_name, "last_name": user.last_name}
    if after != before:
        user.save(update_fields=["email", "username", "first_name", "last_name"])
        logged = diff(before, after)
        if verification is not None:
            logged["email_verified"] = verification
        activity_record(
            organization=membership.organization,
            actor=_actor(token),
            action="update",
            target=membership,
            object_repr=user.email,
            changes=logged,
        )


def _link(
    membership: Membership, changes: dict[str, Any], created_account: bool = False
) -> ScimLink:
    link = (
        ScimLink.objects.for_org(membership.organization_id).filter(membership=membership).first()
    )
    if link is None:
        link = ScimLink(
            organization_id=membership.organization_id,
            membership=membership,
            created_account=created_account,
        )
    if "external_id" in changes:
        link.external_id = changes["external_id"]
    link.updated_at = timezone.now()
    link.save()
    membership.scim_link = link
    return link


def _refuse_reactivation(membership: Membership, why: str) -> None:
    raise ScimError(
        400,
        f"SCIM cannot reactivate {membership.user.email}: {why}. "
        "An owner or admin gives their access back in the app.",
        "mutability",
    )


def _reactivate(token: ScimToken, membership: Membership, link: ScimLink, why: str) -> Membership:
    """Undo SCIM's own deactivation of a provisioned role, nothing else."""
    if membership.role not in PROVISIONED_ROLES:
        _refuse_reactivation(
            membership,
            f"their role is {membership.get_role_display()}, which SCIM does not manage",
        )
    if link.deactivated_at is None or link.deactivated_at != membership.expires_at:
        _refuse_reactivation(membership, "their access was ended in the app, not by SCIM")
    if link.ended_before is not None and link.ended_before <= timezone.now():
        _refuse_reactivation(membership, "the access end they had before has passed")
    membership = membership_reactivate(
        target=membership, actor=_actor(token), why=why, until=link.ended_before
    )
    link.deactivated_at = link.ended_before = None
    link.save(update_fields=["deactivated_at", "ended_before"])
    return membership


def _set_active(
    token: ScimToken, membership: Membership, link: ScimLink, active: bool
) -> Membership:
    why = f"{'re' if active else 'de'}activated by SCIM ({token.name})"
    try:
        if active:
            membership = _reactivate(token, membership, link, why)
        else:
            ended_before = membership.expires_at
            membership_deactivate(target=membership, actor=_actor(token), why=why)
            membership.refresh_from_db(fields=["expires_at"])
            link.deactivated_at, link.ended_before = membership.expires_at, ended_before
            link.save(update_fields=["deactivated_at", "ended_before"])
    except ValidationFailed as exc:
        raise ScimError(400, exc.message, "mutability") from exc
    return membership


def _roster(token: ScimToken, membership: Membership, changes: dict[str, Any]) -> None:
    if not provisioning_settings(membership.organization).manage_personnel:
        return
    if membership.is_active:
        personnel.person_joined(token=token, membership=membership, extra=changes)
    elif "active" in changes:
        personnel.person_left(token=token, membership=membership)


def scim_user_create(*, token: ScimToken, changes: dict[str, Any]) -> Membership:
    org = token.organization
    role = changes.get("role") or provisioning_settings(org).default_role
    _refuse_role(role)
    email = changes["user_name"]
    with transaction.atomic():
        # Verified only where the organization's identity provider speaks for the domain.
        verified = domain_verified_for(org, email)
        user, created = user_ensure(email=email, verified=verified)
        if Membership.objects.for_org(org).filter(user=user).exists():
            raise ScimError(
                409,
                f"{user.email} is a member already: find them with a userName filter.",
                "uniqueness",
            )
        membership = membership_add(organization=org, user=user, role=role, actor=_actor(token))
        if created:
            activity_record(
                organization=org,
                actor=_actor(token),
                action="scim.account_created",
                target=membership,
                object_repr=user.email,
                changes={"email": [None, user.email], "email_verified": [None, verified]},
            )
        # An existing account is linked (how an IdP takes over existing people) but stays its
        # owner's: SCIM never rewrites its name or address.
        link = _link(membership, changes, created_account=created)
        _apply_account(token, membership, link, changes)
        if changes.get("active") is False:
            membership = _set_active(token, membership, link, False)
        else:
            _roster(token, membership, changes)
    return membership


def scim_user_update(
    *, token: ScimToken, membership: Membership, changes: dict[str, Any]
) -> Membership:
    """PUT and PATCH alike: apply what ``changes`` holds, leave the rest."""
    with transaction.atomic():
        # A role sent back unchanged (an IdP echoing what it read) is no change, even an
        # owner's; any other role must be one SCIM may give.
        if "role" in changes and changes["role"] != membership.role:
            _refuse_role(changes["role"])
            try:
                membership_provision_role(
                    target=membership, role=changes["role"], actor=_actor(token)
                )
            except NotPermitted as exc:
                raise ScimError(400, exc.message, "mutability") from exc
            membership.role = changes["role"]
        link = _link(membership, changes)
        _apply_account(token, membership, link, changes)
        if "active" in changes and changes["active"] != membership.is_active:
            membership = _set_active(token, membership, link, changes["active"])
        else:
            changes = {k: v for k, v in changes.items() if k != "active"}
        _roster(token, membership, changes)
    return membership


def scim_user_deactivate(*, token: ScimToken, membership: Membership) -> Membership:
    return scim_user_update(token=token, membership=membership, changes={"active": False})


def provisioning_settings_update(
    *, membership: Membership, default_role: str, manage_personnel: bool
) -> ProvisioningSettings:
    permissions.require(membership, Action.SCIM_MANAGE)
    if default_role not in ProvisionedRole.values:
        raise ValidationFailed("Choose contributor or compliance manager.", field="default_role")
    org = membership.organization
    with transaction.atomic():
        current = ProvisioningSettings.objects.for_org(org).select_for_update().first()
        current = current or ProvisioningSettings(organization=org)
        fields = ["default_role", "manage_personnel"]
        before = snapshot(current, fields) if current.pk else dict.fromkeys(fields)
        current.default_role = default_role
        current.manage_personnel = manage_personnel
        current.updated_at = timezone.now()
        changes = diff(before, snapshot(current, fields))
        if changes:
            current.save()
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="update",
                target=current,
                object_repr="Provisioning settings",
                changes=changes,
            )
    return current
