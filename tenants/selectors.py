"""Reads for organizations, memberships, invitations and the activity log.

``get_<thing>_for(membership, id)`` looks up inside the member's organization and raises
``Http404`` for missing and foreign rows alike, so a URL never tells which one it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from tenants.lookups import user_memberships
from tenants.models import (
    ActivityEntry,
    ApiKey,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
)


def membership_for(*, user: AbstractBaseUser, org_slug: str) -> Membership | None:
    """The user's active membership in the organization at ``org_slug``, or None."""
    if not user.is_authenticated:
        return None
    found = user_memberships(user, org_slug=org_slug)
    return found[0] if found else None


def memberships_of(user: AbstractBaseUser) -> list[Membership]:
    """The user's own current memberships across organizations (the organization switcher),
    with their organizations, by name: through ``tenants.lookups``, one query."""
    return user_memberships(user)


def members_list(org: Organization) -> QuerySet[Membership]:
    """Members with their user and ``has_mfa`` (an authenticator app set up), one query."""
    app = Authenticator.objects.filter(user_id=OuterRef("user_id"), type=Authenticator.Type.TOTP)
    return (
        Membership.objects.for_org(org)
        .select_related("user")
        .annotate(has_mfa=Exists(app))
        .order_by("user__email")
    )


def invitations_pending(org: Organization) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_org(org)
        .filter(status=InvitationStatus.PENDING)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def activity_list(org: Organization) -> QuerySet[ActivityEntry]:
    return ActivityEntry.objects.for_org(org).order_by("-created_at", "-id")


def get_membership_for(membership: Membership, pk: int) -> Membership:
    found = members_list(membership.organization).filter(pk=pk).first()
    if found is None:
        raise Http404("No such member.")
    return found


def get_invitation_for(membership: Membership, pk: int) -> Invitation:
    found = Invitation.objects.for_org(membership.organization).filter(pk=pk).first()
    if found is None:
        raise Http404("No such invitation.")
    return found


# Bearer credentials other apps let a member create (a tenant model with ``created_by``,
# ``revoked_at``, ``name`` and ``prefix``: SCIM tokens), each with the action a role needs to
# hold one. They go with the member's API keys; each app registers its model in
# ``AppConfig.ready`` (``tenants`` does not import the apps built on it). They have no system
# path: one with no creator counts as its creator gone (``tenants.credentials_sweep``).
CREATED_CREDENTIALS: dict[type, str] = {}


def created_credential_register(model: type, action: str) -> None:
    CREATED_CREDENTIALS[model] = action


@dataclass(frozen=True)
class Grants:
    """Access a member handed out that would outlive them: withdrawn when they are removed."""

    invitations: list[Invitation]
    api_keys: list[ApiKey]
    # The ``CREATED_CREDENTIALS`` rows (SCIM tokens), active ones only.
    credentials: list[Any] = field(default_factory=list)


def grants_of(target: Membership) -> Grants:
    """The pending invitations ``target`` sent and the active API keys (and other registered
    credentials) they created: one query each."""
    org_id = target.organization_id
    return Grants(
        credentials=[
            row
            for model in CREATED_CREDENTIALS
            for row in model.objects.for_org(org_id)
            .filter(created_by_id=target.user_id, revoked_at__isnull=True)
            .order_by("name", "id")
        ],
        invitations=list(
            Invitation.objects.for_org(org_id)
            .filter(invited_by_id=target.user_id, status=InvitationStatus.PENDING)
            .order_by("email", "id")
        ),
        api_keys=list(
            ApiKey.objects.for_org(org_id)
            .filter(created_by_id=target.user_id, revoked_at__isnull=True)
            .order_by("name", "id")
        ),
    )
