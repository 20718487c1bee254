"""API keys: creating, revoking, listing, and checking a presented key.

A key reads ``sk_ab12cd34_<secret>``: the prefix (``sk_`` + 8 characters) is public and shown in
lists; the secret is 32 random bytes (URL-safe base64) of which only a SHA-256 is stored, so a
database leak hands out no working key. Being high-entropy, the secret needs no slow hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import string
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from soc2app.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.lookups import api_key_for_auth
from tenants.models import ApiKey, ApiKeyRole, Membership, Organization, Role
from tenants.permissions import Action
from tenants.standing import LAPSED, creator_lapsed

PREFIX_START = "sk_"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_LENGTH = len(PREFIX_START) + 8
MAX_EXPIRES_DAYS = 3650

# A key may be given a role up to the creator's own: rank of each role.
_RANK = {
    ApiKeyRole.READ_ONLY: 0,
    Role.AUDITOR: 0,
    ApiKeyRole.CONTRIBUTOR: 1,
    ApiKeyRole.COMPLIANCE_MANAGER: 2,
    ApiKeyRole.ADMIN: 3,
    Role.OWNER: 3,
}


class InvalidKey(Exception):
    """A presented key that does not authenticate; ``code`` and message go to the client."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_prefix() -> str:
    return PREFIX_START + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(8))


def split_key(raw: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else None."""
    if len(raw) < _PREFIX_LENGTH + 20 or len(raw) > 200 or not raw.startswith(PREFIX_START):
        return None
    prefix, sep, secret = raw[:_PREFIX_LENGTH], raw[_PREFIX_LENGTH], raw[_PREFIX_LENGTH + 1 :]
    if sep != "_" or any(c not in _PREFIX_ALPHABET for c in prefix[len(PREFIX_START) :]):
        return None
    return prefix, secret


def grantable_key_roles(principal: Any) -> list[str]:
    """Key roles this member may hand out: up to their own role, if they manage keys at all."""
    if not permissions.can(principal, Action.APIKEY_MANAGE):
        return []
    own = _RANK.get(principal.role, -1)
    return [r for r in ApiKeyRole.values if _RANK[r] <= own]


def _require_person(principal: Any) -> None:
    # A key must not mint or revoke keys: a leaked key could otherwise outlive its revocation.
    if getattr(principal, "user", None) is None:
        raise NotPermitted("API keys are managed by people in the app, not by other API keys.")


def _validate(name: str, role: str, expires_days: int | None) -> tuple[str, dt.datetime | None]:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the key a name that says where it is used.", field="name")
    if len(name) > ApiKey._meta.get_field("name").max_length:
        raise ValidationFailed("Keep the name under 80 characters.", field="name")
    if role not in ApiKeyRole.values:
        choices = ", ".join(ApiKeyRole.values)
        raise ValidationFailed(f"Choose a role: {choices}.", field="role")
    if expires_days is None:
        return name, None
    if not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        raise ValidationFailed(
            f"Expiry must be 1 to {MAX_EXPIRES_DAYS} days, or empty for no expiry.",
            field="expires_days",
        )
    return name, timezone.now() + dt.timedelta(days=expires_days)


def _insert(
    *,
    organization: Organization,
    name: str,
    role: str,
    expires_at: dt.datetime | None,
    actor: Actor,
    created_by: Any = None,
) -> tuple[ApiKey, str]:
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        for _ in range(3):  # a prefix collision within one organization is rare; retry anyway
            key = ApiKey(
                organization=organization,
                name=name,
                role=role,
                prefix=_new_prefix(),
                secret_hash=hash_secret(secret),
                created_by=created_by,
                expires_at=expires_at,
            )
            try:
                with transaction.atomic():
                    key.save()
                break
            except IntegrityError as exc:
                if (
                    ApiKey.objects.for_org(organization)
                    .filter(name=name, revoked_at__isnull=True)
                    .exists()
                ):
                    raise ValidationFailed(
                        f"A key named “{name}” exists; choose another name or revoke it first.",
                        field="name",
                    ) from exc
        else:  # pragma: no cover - three prefix collisions in a row
            raise Conflict("Could not create a key; try again.")
        activity_record(
            organization=organization,
            actor=actor,
            action="create",
            target=key,
            changes={
                "name": [None, name],
                "role": [None, role],
                "expires_at": [None, expires_at.isoformat() if expires_at else None],
            },
        )
    return key, f"{key.prefix}_{secret}"


def api_key_create(
    *, membership: Membership, name: str, role: str, expires_days: int | None = None
) -> tuple[ApiKey, str]:
    """A new key of the member's organization, and its plaintext (shown once, never stored)."""
    permissions.require(membership, Action.APIKEY_MANAGE)
    _require_person(membership)
    name, expires_at = _validate(name, role, expires_days)
    if role not in grantable_key_roles(membership):
        raise ValidationFailed("You cannot create a key with a role above your own.", field="role")
    return _insert(
        organization=membership.organization,
        name=name,
        role=role,
        expires_at=expires_at,
        actor=Actor.for_principal(membership),
        created_by=membership.user,
    )


def api_key_create_system(
    *, organization: Organization, name: str, role: str, expires_days: int | None, actor: Actor
) -> tuple[ApiKey, str]:
    """The command-line path (``create_api_key``): whoever runs it administers the server."""
    name, expires_at = _validate(name, role, expires_days)
    return _insert(
        organization=organization, name=name, role=role, expires_at=expires_at, actor=actor
    )


def api_key_revoke(*, membership: Membership, key: ApiKey) -> ApiKey:
    permissions.require(membership, Action.APIKEY_MANAGE)
    _require_person(membership)
    if key.organization_id != membership.organization_id:
        raise NotFound("API key not found.")
    return credential_revoke(membership=membership, row=key)


def credential_revoke(*, membership: Membership, row: Any) -> Any:
    """Revoke a hashed bearer credential of the member's organization now (an API key, a
    SCIM token: any tenant model with ``revoked_at``), with its activity entry."""
    now = timezone.now()
    with transaction.atomic():
        changed = (
            type(row)
            .objects.for_org(membership.organization_id)
            .filter(pk=row.pk, revoked_at__isnull=True)
            .update(revoked_at=now)
        )
        if not changed:
            raise Conflict("This was already revoked: nothing to do.")
        row.revoked_at = now
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="revoke",
            target=row,
            changes={"revoked_at": [None, now.isoformat()]},
        )
    return row


def api_keys_list(org: Organization) -> QuerySet[ApiKey]:
    """The organization's keys with ``creator_lapsed`` (suspended until the sweep revokes)."""
    lapsed = creator_lapsed(
        Action.APIKEY_MANAGE, Membership.objects.for_org(org), system_issued=True
    )
    return (
        ApiKey.objects.for_org(org)
        .select_related("created_by")
        .annotate(**{LAPSED: lapsed})
        .order_by(models.F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
    )


def get_api_key_for(membership: Membership, pk: int) -> ApiKey:
    found = ApiKey.objects.for_org(membership.organization).filter(pk=pk).first()
    if found is None:
        raise Http404("No such API key.")
    return found


def api_key_authenticate(raw: str) -> ApiKey:
    """The active key behind ``raw``, or ``InvalidKey`` saying why not.

    Revocation, expiry and the creator's standing (``tenants.standing``) are read from the
    database with the key on every request, so they take effect at once. Unknown and wrong
    keys get the same answer.
    """
    parts = split_key(raw)
    if parts is None:
        raise InvalidKey(
            "Malformed API key: send “Authorization: Bearer sk_…” with the whole key.",
            "invalid_api_key",
        )
    prefix, secret = parts
    # Across organizations by prefix and hash: a narrow database function (tenants.lookups).
    key = api_key_for_auth(prefix, hash_secret(secret))
    if key is None:
        raise InvalidKey("Unknown API key: check it, or create a new one.", "invalid_api_key")
    if key.revoked_at is not None:
        raise InvalidKey("This API key was revoked; create a new one.", "api_key_revoked")
    if key.is_expired:
        when = timezone.localtime(key.expires_at).strftime("%d %b %Y %H:%M %Z")
        raise InvalidKey(f"This API key expired on {when}; create a new one.", "api_key_expired")
    if getattr(key, LAPSED):
        raise InvalidKey(
            "This key's creator no longer has access to the organization, so the key is "
            "suspended; an owner or admin can create a new one.",
            "api_key_creator_lapsed",
        )
    last_used_touch(key)
    return key


def last_used_touch(row: Any) -> None:
    """Record a credential's use (``last_used_at``) at most once per
    ``API_KEY_LAST_USED_INTERVAL`` seconds: no write per request."""
    now = timezone.now()
    interval = dt.timedelta(seconds=settings.API_KEY_LAST_USED_INTERVAL)
    if row.last_used_at is not None and now - row.last_used_at < interval:
        return
    type(row).objects.for_org(row.organization_id).filter(pk=row.pk).filter(
        models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - interval)
    ).update(last_used_at=now)
    row.last_used_at = now
