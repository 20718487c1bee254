"""SCIM tokens: creating, revoking, listing, and checking a presented token (owners only).

A token reads ``scim_ab12cd34_<secret>``: the prefix is public and shown in lists; the secret
is 32 random bytes of which only a SHA-256 is stored (``tenants.apikeys.hash_secret``, as for
API keys). The SCIM base URL names the organization (``/scim/v2/<org_slug>/``), so a token is
looked up inside that organization only, under its row-level security: no cross-organization
lookup exists, and another organization's token is simply unknown there.
"""

from __future__ import annotations

import secrets
import string

from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.http import Http404

from scim.models import ScimToken
from scim.protocol import ScimError
from soc2app.errors import Conflict, NotPermitted, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.apikeys import credential_revoke, hash_secret, last_used_touch
from tenants.models import Membership, Organization
from tenants.permissions import Action
from tenants.standing import LAPSED, creator_lapsed

PREFIX_START = "scim_"
_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_LENGTH = len(PREFIX_START) + 8


def _require(membership: Membership) -> None:
    permissions.require(membership, Action.SCIM_MANAGE)
    if getattr(membership, "user", None) is None:  # pragma: no cover - keys lack the action
        raise NotPermitted("SCIM tokens are managed by owners in the app.")


def scim_token_create(*, membership: Membership, name: str) -> tuple[ScimToken, str]:
    """A new token and its plaintext (shown once, never stored)."""
    _require(membership)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Name the token after the identity provider using it.", field="name")
    if len(name) > ScimToken._meta.get_field("name").max_length:
        raise ValidationFailed("Keep the name under 80 characters.", field="name")
    org = membership.organization
    if ScimToken.objects.for_org(org).filter(name=name, revoked_at__isnull=True).exists():
        raise ValidationFailed(
            f"A token named “{name}” exists; choose another name or revoke it first.",
            field="name",
        )
    secret = secrets.token_urlsafe(32)
    prefix = PREFIX_START + "".join(secrets.choice(_ALPHABET) for _ in range(8))
    token = ScimToken(
        organization=org,
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        created_by=membership.user,
    )
    try:
        with transaction.atomic():
            token.save()
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="create",
                target=token,
                changes={"name": [None, name]},
            )
    except IntegrityError as exc:  # the same name (or prefix) created concurrently
        raise Conflict("A token with this name was just created; choose another name.") from exc
    return token, f"{prefix}_{secret}"


def scim_token_revoke(*, membership: Membership, token: ScimToken) -> ScimToken:
    """Revoke now: the provider's next request is refused."""
    _require(membership)
    return credential_revoke(membership=membership, row=token)


def _with_standing(org: Organization) -> QuerySet[ScimToken]:
    """The organization's tokens with ``creator_lapsed``: the owner who created the token no
    longer stands behind it (``tenants.standing``; a token has no system path, so a creator
    who is gone counts too)."""
    members = Membership.objects.for_org(org)
    lapsed = creator_lapsed(Action.SCIM_MANAGE, members, system_issued=False)
    return ScimToken.objects.for_org(org).annotate(**{LAPSED: lapsed})


def scim_tokens_list(org: Organization) -> QuerySet[ScimToken]:
    return (
        _with_standing(org)
        .select_related("created_by")
        .order_by(models.F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
    )


def get_scim_token_for(membership: Membership, pk: int) -> ScimToken:
    found = ScimToken.objects.for_org(membership.organization).filter(pk=pk).first()
    if found is None:
        raise Http404("No such token.")
    return found


def scim_token_authenticate(org: Organization, raw: str) -> ScimToken | None:
    """The active token of ``org`` behind ``raw``, or None (unknown, malformed, revoked and
    another organization's tokens look the same to the caller). A token whose creator no
    longer has access is a 401 ``ScimError`` saying so (read in the same query)."""
    if (
        not raw.startswith(PREFIX_START)
        or len(raw) > 200
        or raw[_PREFIX_LENGTH : _PREFIX_LENGTH + 1] != "_"
    ):
        return None
    prefix, secret = raw[:_PREFIX_LENGTH], raw[_PREFIX_LENGTH + 1 :]
    token = (
        _with_standing(org)
        .filter(prefix=prefix, secret_hash=hash_secret(secret), revoked_at__isnull=True)
        .first()
    )
    if token is not None and getattr(token, LAPSED):
        raise ScimError(
            401,
            "This token's creator no longer has access to the organization, so the token is "
            "suspended; an owner can create a new one.",
        )
    if token is not None:
        last_used_touch(token)
    return token
