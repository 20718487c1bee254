"""What happens when a person comes back from the organization's identity provider, and how
an organization's "require single sign-on" reaches password sign-in and sessions.

At the return (``SocialAccountAdapter.pre_social_login``, after allauth has checked the
protocol: the SAML signature, audience, validity window and ``InResponseTo``; the OIDC
``state``, PKCE, issuer, audience and expiry):

1. the sign-in must have been started here, for this organization (our state), and an OIDC ID
   token must carry the nonce we sent;
2. the e-mail address must be in a domain this organization verified (another organization's
   domain, or an unverified one, is refused);
3. a test sign-in stops here: it is recorded and nobody is signed in;
4. otherwise the connection must be enabled and the address must belong to a member (or, when
   the organization allows it, a new contributor is created); the person's allauth social
   account is linked to that user (refused when the user already has another identity at
   this provider), and allauth signs them in. An OIDC ``email_verified`` claim that is not
   true is refused (nOAuth); an absent one is accepted, since the domain is verified.

Refusals render ``sso/refused.html`` (403) and are written to the organization's activity log
and to the ``sso`` logger; so are the protocol failures allauth reports
(``on_authentication_error``).

Sessions: at every sign-in (``user_logged_in``) the session records the organization it was
signed into through its identity provider (``SIGNED_KEY``). On every request to an
organization that requires single sign-on (``Organization.sso_required``, read with the
membership), ``sso.middleware`` and the API refuse a session that does not hold it, unless
the member is the break-glass owner (``must_use_sso``). The requirement so takes effect at
once, for sessions that were signed in before it was turned on too; an organization that does
not require it costs no query.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import user_logged_in
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from onelogin.saml2.constants import OneLogin_Saml2_Constants

from sso import lookups
from sso.activity import log_event
from sso.apps_config import ORG_SETTING, connection_of
from sso.models import SsoConnection, SsoDomain
from tenants.activity import Actor, activity_record
from tenants.lookups import user_memberships
from tenants.models import Membership, Organization, Role

logger = logging.getLogger("sso")

MODE_LOGIN = "login"
MODE_TEST = "test"
SIGNED_KEY = "sso_signed_orgs"
ALLOWED_CLOCK_DRIFT = OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT


class Refused(Exception):
    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


def refuse(  # noqa: PLR0913
    request: HttpRequest,
    org: Organization | None,
    message: str,
    *,
    reason: str,
    status: int = 403,
    **details: Any,
) -> ImmediateHttpResponse:
    """Log the refusal (activity log of ``org`` and the ``sso`` logger) and answer ``status``
    (403; 502 when the identity provider could not be reached)."""
    logger.warning("sso sign-in refused: %s", reason, extra={"org": getattr(org, "pk", None)})
    if org is not None:
        log_event(
            org,
            Actor.system("single sign-on"),
            "sso.signin_refused",
            {"reason": reason, "message": message, **details},
        )
    response = render(request, "sso/refused.html", {"message": message, "org": org}, status=status)
    return ImmediateHttpResponse(response)


def _org_of(sociallogin: SocialLogin) -> Organization | None:
    app = getattr(sociallogin.provider, "app", None)
    org_id = (app.settings or {}).get(ORG_SETTING) if app is not None else None
    return Organization.objects.filter(pk=org_id).first() if org_id else None


def _email_of(sociallogin: SocialLogin) -> str:
    for address in sociallogin.email_addresses:
        if address.email:
            return address.email.strip().lower()
    user = sociallogin.user
    return (getattr(user, "email", "") or "").strip().lower()


def _check_domain(request: HttpRequest, org: Organization, email: str) -> None:
    domain = email.rsplit("@", 1)[-1] if "@" in email else ""
    verified = SsoDomain.objects.for_org(org).filter(domain=domain, verified_at__isnull=False)
    if domain and verified.exists():
        return
    owner = lookups.organization_id_for_domain(domain) if domain else None
    if owner is not None and owner != org.pk:
        raise refuse(
            request,
            org,
            f"{domain} is a verified domain of another organization: {org.name}'s identity "
            "provider cannot sign its people in.",
            reason="other_organization_domain",
            email=email,
        )
    raise refuse(
        request,
        org,
        f"{domain or 'This address'} is not a verified domain of {org.name}: an owner must "
        "verify it under Settings → Single sign-on before its people can sign in this way.",
        reason="unverified_domain",
        email=email,
    )


def _check_state(request: HttpRequest, org: Organization, sociallogin: SocialLogin) -> str:
    state = sociallogin.state or {}
    if state.get("sso_org") != org.pk or state.get("sso_mode") not in (MODE_LOGIN, MODE_TEST):
        raise refuse(
            request,
            org,
            "This sign-in was not started from this application: start it again from the "
            "sign-in page.",
            reason="unsolicited",
        )
    if sociallogin.account.provider.startswith("oidc-"):
        claims = (sociallogin.account.extra_data or {}).get("id_token") or {}
        if not claims or claims.get("nonce") != state.get("sso_nonce"):
            raise refuse(
                request,
                org,
                "The identity provider's ID token does not carry the nonce this sign-in sent "
                "(a replayed or forged token): sign in again.",
                reason="nonce_mismatch",
            )
        # PyJWT checks ``exp`` and ``nbf`` but not an ``iat`` in the future: the same drift
        # python3-saml allows for SAML (OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT).
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or issued > time.time() + ALLOWED_CLOCK_DRIFT:
            raise refuse(
                request,
                org,
                "The identity provider's ID token was issued in the future: its clock and ours "
                "disagree by more than 5 minutes.",
                reason="clock_skew",
            )
    return state["sso_mode"]


def _check_email_verified(
    request: HttpRequest, org: Organization, sociallogin: SocialLogin
) -> None:
    """OIDC: an ``email_verified`` claim (ID token or userinfo) that is not true is refused: the
    IdP says the address may belong to someone else (nOAuth). When the claim is absent (Entra
    ID omits it) the address is accepted, because it must also be in a domain this
    organization verified (``_check_domain``), so only that domain's IdP tenant can assert it.
    SAML has no such claim; its assertion is signed by the organization's own IdP."""
    if not sociallogin.account.provider.startswith("oidc-"):
        return
    extra = sociallogin.account.extra_data or {}
    for claims in (extra.get("id_token"), extra.get("userinfo")):
        if isinstance(claims, dict) and "email_verified" in claims:
            if claims["email_verified"] not in (True, "true", "True"):
                raise refuse(
                    request,
                    org,
                    "The identity provider says this e-mail address is not verified: verify it "
                    "there, then sign in again.",
                    reason="email_not_verified",
                    email=_email_of(sociallogin),
                )


def _check_one_identity(
    request: HttpRequest, org: Organization, sociallogin: SocialLogin, user: Any, email: str
) -> None:
    """A user has at most one identity per identity provider: another ``sub``/NameID for the
    same address is someone else claiming it (nOAuth), not a second link."""
    account = sociallogin.account
    others = SocialAccount.objects.filter(user=user, provider=account.provider)
    if others.exclude(uid=account.uid).exists():
        raise refuse(
            request,
            org,
            "Your account is already linked to another identity at this identity provider: "
            "ask an owner.",
            reason="second_identity",
            email=email,
        )


def _member_for(
    request: HttpRequest, org: Organization, connection: SsoConnection, email: str
) -> Membership:
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    membership = None
    if user is not None:
        membership = Membership.objects.for_org(org).filter(user=user).first()
    if membership is not None:
        if membership.expires_at is not None and membership.expires_at <= timezone.now():
            raise refuse(request, org, "Your access has expired.", reason="expired", email=email)
        return membership
    if not connection.allow_jit:
        raise refuse(
            request,
            org,
            f"{email} is not a member of {org.name}: ask an owner to invite you.",
            reason="not_a_member",
            email=email,
        )
    with transaction.atomic():
        if user is None:
            user = User.objects.create_user(username=email[:150], email=email, password=None)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        membership = Membership.objects.for_org(org).create(
            organization=org, user=user, role=Role.CONTRIBUTOR
        )
        activity_record(
            organization=org,
            actor=Actor.system("single sign-on"),
            action="sso.member_created",
            target=membership,
            changes={"email": email, "role": Role.CONTRIBUTOR},
        )
    return membership


def accept(request: HttpRequest, sociallogin: SocialLogin) -> None:
    """The rules above; raises ``ImmediateHttpResponse`` for a refusal or a finished test."""
    org = _org_of(sociallogin)
    if org is None:
        raise refuse(request, None, "Unknown organization.", reason="unknown_org")
    mode = _check_state(request, org, sociallogin)
    connection = connection_of(org)
    email = _email_of(sociallogin)
    if not email:
        raise refuse(
            request,
            org,
            "The identity provider sent no e-mail address: map the user's e-mail to the "
            "'email' claim (OIDC) or attribute (SAML).",
            reason="no_email",
        )
    _check_email_verified(request, org, sociallogin)
    if mode == MODE_TEST:
        from sso.services import connection_record_test

        connection_record_test(request=request, org=org, email=email)
        raise ImmediateHttpResponse(redirect("sso_settings", org_slug=org.slug))
    _check_domain(request, org, email)
    if connection is None or not connection.enabled:
        raise refuse(
            request,
            org,
            f"Single sign-on is not enabled for {org.name}.",
            reason="not_enabled",
            email=email,
        )
    membership = _member_for(request, org, connection, email)
    if sociallogin.is_existing:
        if sociallogin.user.pk != membership.user_id:
            raise refuse(
                request,
                org,
                "This identity is linked to another account: ask an owner.",
                reason="linked_elsewhere",
                email=email,
            )
    else:
        _check_one_identity(request, org, sociallogin, membership.user, email)
        sociallogin.connect(request, membership.user)


def password_refusal(user: Any) -> tuple[str, list[Organization]] | None:
    """Why a password sign-in (and so its TOTP step) is refused, or None. Refused when every
    one of the user's organizations requires single sign-on and the user is the break-glass
    owner of none and an auditor of none; the break-glass owner must have an authenticator
    app."""
    memberships = user_memberships(user)
    if not memberships:
        return None
    required = []
    for membership in memberships:
        if membership.role == Role.AUDITOR:
            return None  # an outside auditor has no account at the organization's IdP
        connection = connection_of(membership.organization)
        if connection is None or not connection.require_sso:
            return None
        if connection.break_glass_id == membership.pk:
            has_app = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
            if has_app:
                return None
            return (
                f"You are {membership.organization.name}'s break-glass owner, but have no "
                "authenticator app: sign in with single sign-on.",
                [membership.organization],
            )
        required.append(membership.organization)
    names = ", ".join(org.name for org in required)
    return (
        f"{names} requires single sign-on: use “Sign in with single sign-on” with your work "
        "e-mail address.",
        required,
    )


def must_use_sso(membership: Membership) -> bool:
    """Whether this member may act in their organization only through its identity provider:
    it requires single sign-on and they are not its break-glass owner. Auditors are outside
    it: the CPA firm's people have no account at the organization's identity provider (their
    access is granted per audit, time-boxed, and their own sign-in keeps its MFA). One query
    (the connection), so callers ask only when ``Organization.sso_required`` says it may be so."""
    if membership.role == Role.AUDITOR:
        return False
    connection = connection_of(membership.organization)
    if connection is None or not connection.require_sso:
        return False
    return connection.break_glass_id != membership.pk


@receiver(user_logged_in)
def _on_signed_in(sender, request, user, **kwargs) -> None:  # noqa: ANN001
    """Marks the new session (see the module's docstring); logs a sign-in through SSO."""
    if request is None:
        return
    sociallogin = kwargs.get("sociallogin")
    org_id = (sociallogin.state or {}).get("sso_org") if sociallogin is not None else None
    if org_id is None:
        request.session[SIGNED_KEY] = []
        return
    request.session[SIGNED_KEY] = [org_id]
    org = Organization.objects.get(pk=org_id)
    log_event(org, Actor.for_user(user), "sso.signed_in", {"email": user.email})


def refuse_password(request: HttpRequest, user: Any) -> Any:
    """``AccountAdapter.pre_login`` for a password sign-in: a redirect to single sign-on with
    the reason, or None."""
    refusal = password_refusal(user)
    if refusal is None:
        return None
    message, orgs = refusal
    logger.info("password sign-in refused: single sign-on required", extra={"user": user.pk})
    for org in orgs:
        log_event(org, Actor.for_user(user), "sso.password_refused", {"email": user.email})
    messages.error(request, message)
    return redirect("sso_login")
