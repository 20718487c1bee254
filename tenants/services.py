"""Write services for organizations, memberships and invitations.

Each runs in one transaction, checks permissions through ``tenants.permissions``, writes its
activity entry in that transaction and defers e-mail to ``transaction.on_commit``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from soc2app.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.context import org_scope
from tenants.invitation_limits import invitation_quota_consume
from tenants.lookups import invitation_by_token
from tenants.models import (
    RESERVED_SLUGS,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    Role,
    slug_validator,
)
from tenants.permissions import Action
from tenants.services_members import (  # noqa: F401 (re-exported: the services of this app)
    AUDITOR_DEFAULT_ACCESS_DAYS,
    membership_add,
    membership_change_role,
    membership_remove,
)
from tenants.validation import access_end_check, header_safe, organization_name_clean

logger = logging.getLogger(__name__)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _validate_slug(slug: str) -> None:
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], field="slug") from exc
    if slug in RESERVED_SLUGS:
        raise ValidationFailed(f"“{slug}” is reserved; choose another address.", field="slug")


def organization_create(
    *, name: str, slug: str, user: AbstractBaseUser | None = None, actor: Actor | None = None
) -> Organization:
    """A new organization; ``user``, when given, becomes its owner."""
    name = organization_name_clean(name)
    slug = slug.strip().lower()
    _validate_slug(slug)
    actor = actor or (Actor.for_user(user) if user else Actor.system())
    try:
        with transaction.atomic():
            org = Organization.objects.create(name=name, slug=slug)
            if user is not None:
                Membership(organization=org, user=user, role=Role.OWNER).save()
            activity_record(
                organization=org,
                actor=actor,
                action="create",
                target=org,
                changes={"name": [None, name], "slug": [None, slug]},
            )
    except IntegrityError as exc:
        raise ValidationFailed(
            f"The address “{slug}” is taken; choose another.", field="slug"
        ) from exc
    logger.info("organization %s created by %s", slug, actor.label)
    return org


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str

    @property
    def accept_path(self) -> str:
        return reverse("invitation_accept", kwargs={"token": self.token})


def invitation_subject(organization: Organization) -> str:
    """A fixed text and the organization's name, made header-safe (names stored before names
    were checked may hold a line break, which would make Django refuse the whole mail)."""
    return f"You are invited to {header_safe(organization.name)} on SOC 2 Readiness"


def _invitation_email(invitation: Invitation, token: str, inviter_label: str) -> EmailMessage:
    """The invitation mail, built (headers included) before anything is written: a value that
    cannot go into a header fails here, not after the invitation was committed."""
    url = settings.SITE_URL + reverse("invitation_accept", kwargs={"token": token})
    context = {
        "organization_name": header_safe(invitation.organization.name),
        "role": invitation.get_role_display(),
        "url": url,
        "expires_at": invitation.expires_at,
        "inviter": inviter_label,
    }
    message = EmailMessage(
        subject=invitation_subject(invitation.organization),
        body=render_to_string("emails/invitation.txt", context),
        to=[invitation.email],
    )
    try:
        message.message()
    except (BadHeaderError, ValueError) as exc:
        raise ValidationFailed(
            "This address cannot be used in an e-mail; check it for stray characters.",
            field="email",
        ) from exc
    return message


def _send_invitation_email(message: EmailMessage, invitation: Invitation) -> None:
    """Runs after the invitation is committed. A failed send (SMTP down) is logged, not a
    500: the invitation stays pending and can be withdrawn and sent again."""
    try:
        message.send()
    except Exception:
        logger.exception(
            "invitation %s to %s was saved but its e-mail could not be sent",
            invitation.pk,
            invitation.email,
        )


EMAIL_MAX_LENGTH = Invitation._meta.get_field("email").max_length


def invitation_create(
    *,
    membership: Membership,
    email: str,
    role: str,
    access_expires_at: dt.datetime | None = None,
) -> NewInvitation:
    """Invite ``email`` to ``membership``'s organization with ``role``; e-mails the link."""
    permissions.require(membership, Action.MEMBER_MANAGE)
    org = membership.organization
    email = email.strip().lower()
    if len(email) > EMAIL_MAX_LENGTH:  # the column's length: a longer one was a 500
        raise ValidationFailed(
            f"An e-mail address has at most {EMAIL_MAX_LENGTH} characters.", field="email"
        )
    if role not in permissions.grantable_roles(membership):
        raise ValidationFailed("You cannot invite someone with this role.", field="role")
    now = timezone.now()
    if role == Role.AUDITOR:
        access_expires_at = access_expires_at or now + dt.timedelta(
            days=AUDITOR_DEFAULT_ACCESS_DAYS
        )
    access_end_check(access_expires_at)
    with org_scope(org):
        if Membership.objects.filter(user__email__iexact=email).exists():
            raise ValidationFailed(f"{email} is already a member of {org.name}.", field="email")
        if Invitation.objects.filter(email=email, status=InvitationStatus.PENDING).exists():
            raise ValidationFailed(
                f"{email} already has a pending invitation; revoke it to send a new one.",
                field="email",
            )
    token = secrets.token_urlsafe(32)
    actor = Actor.for_user(membership.user)
    invitation = Invitation(
        organization=org,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=membership.user,
        expires_at=now + dt.timedelta(days=settings.INVITATION_TTL_DAYS),
        access_expires_at=access_expires_at,
    )
    message = _invitation_email(invitation, token, actor.label)
    # Counted last, so refused input does not use up the sender's quota.
    invitation_quota_consume(organization_id=org.pk, inviter_id=membership.user.pk)
    with transaction.atomic():
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError as exc:  # a concurrent invitation of the same address
            raise ValidationFailed(
                f"{email} already has a pending invitation.", field="email"
            ) from exc
        activity_record(
            organization=org,
            actor=actor,
            action="invite",
            target=invitation,
            changes={"email": [None, email], "role": [None, role]},
        )
        transaction.on_commit(lambda: _send_invitation_email(message, invitation))
    return NewInvitation(invitation=invitation, token=token)


def invitation_revoke(*, membership: Membership, invitation: Invitation) -> None:
    permissions.require(membership, Action.MEMBER_MANAGE)
    if invitation.organization_id != membership.organization_id:
        raise NotFound("Invitation not found.")
    with transaction.atomic():
        changed = (
            Invitation.objects.for_org(membership.organization_id)
            .filter(pk=invitation.pk, status=InvitationStatus.PENDING)
            .update(status=InvitationStatus.REVOKED)
        )
        if not changed:
            raise Conflict("This invitation is no longer pending.")
        activity_record(
            organization=membership.organization,
            actor=Actor.for_user(membership.user),
            action="revoke",
            target=invitation,
            changes={"status": [InvitationStatus.PENDING, InvitationStatus.REVOKED]},
        )


def invitation_for_token(token: str) -> Invitation:
    """The invitation behind an accept link, or ``NotFound`` with a message for the user."""
    # Across organizations by token hash: a narrow database function (tenants.lookups).
    invitation = invitation_by_token(hash_token(token))
    if invitation is None:
        raise NotFound("This invitation link is not valid. Ask the sender for a new invitation.")
    return invitation


def invitation_problem(invitation: Invitation) -> str | None:
    """Why an invitation can no longer be accepted, in words for the user (or None)."""
    if invitation.status == InvitationStatus.ACCEPTED:
        return "This invitation has already been used. Sign in to reach the organization."
    if invitation.status == InvitationStatus.REVOKED:
        return "This invitation was withdrawn. Ask the sender for a new one."
    if invitation.status == InvitationStatus.EXPIRED or invitation.is_expired:
        when = timezone.localtime(invitation.expires_at).strftime("%d %b %Y")
        return f"This invitation expired on {when}. Ask the sender for a new one."
    return None


def _user_emails(user: AbstractBaseUser) -> set[str]:
    from allauth.account.models import EmailAddress

    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    return {e.lower() for e in verified}


def invitation_accept(*, user: AbstractBaseUser, token: str) -> Membership:
    """Turn an invitation into a membership: once, before expiry, for the invited address."""
    invitation = invitation_for_token(token)
    problem = invitation_problem(invitation)
    if problem:
        raise ValidationFailed(problem, code="invitation_unusable")
    if invitation.email.lower() not in _user_emails(user):
        raise NotPermitted(
            "This invitation was sent to a different e-mail address. Sign in with the address "
            "it was sent to, or verify that address on your account.",
            code="invitation_other_email",
        )
    org = invitation.organization
    with transaction.atomic():
        # Single use even under concurrency: only one request flips pending -> accepted.
        claimed = (
            Invitation.objects.for_org(org)
            .filter(pk=invitation.pk, status=InvitationStatus.PENDING)
            .update(status=InvitationStatus.ACCEPTED, accepted_at=timezone.now(), accepted_by=user)
        )
        if not claimed:
            raise ValidationFailed("This invitation has already been used.")
        if Membership.objects.for_org(org).filter(user=user).exists():
            raise Conflict(f"You are already a member of {org.name}.")
        membership = Membership(
            organization=org,
            user=user,
            role=invitation.role,
            expires_at=invitation.access_expires_at,
        )
        membership.save()
        activity_record(
            organization=org,
            actor=Actor.for_user(user),
            action="join",
            target=membership,
            object_repr=f"{user.email} as {membership.get_role_display()}",
            changes={"role": [None, membership.role]},
        )
    return membership


def invitations_expire() -> int:
    """Mark overdue pending invitations as expired (system job); returns how many changed."""
    return (
        Invitation.objects.dangerously_unscoped(reason="system job: expire invitations")
        .filter(status=InvitationStatus.PENDING, expires_at__lte=timezone.now())
        .update(status=InvitationStatus.EXPIRED)
    )
