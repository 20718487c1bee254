"""Two-factor authentication required by an organization (``Organization.require_mfa`` for
every member, ``require_mfa_for_auditors`` for auditors only).

A member the policy covers passes when they have an authenticator app (allauth's TOTP) *and*
this session was confirmed with it: at sign-in, or afterwards through allauth's
re-authentication page, or by setting the app up in this session (a valid code). Otherwise
``TenantMiddleware`` sends them to set it up (or confirm) and refuses anything but a page
view. API keys are not people: the policy does not apply to them; browser sessions calling
the API are held to it like pages.
"""

from __future__ import annotations

from enum import Enum

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from soc2app.errors import ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization, Role
from tenants.permissions import Action

# The page a member was sent away from to set up the app, and, once the app is on, the same
# page offered as "Continue" on allauth's pages (templates/allauth/layouts/manage.html).
NEXT_KEY = "mfa_next"
CONTINUE_KEY = "mfa_continue"


@receiver(authenticator_added)
def _on_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:  # noqa: ANN001
    """Setting the app up proves it works (a valid code was entered): this session counts as
    confirmed with it, rather than being asked for a second code at once."""
    if request is None or authenticator.type != Authenticator.Type.TOTP:
        return
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
    if NEXT_KEY in request.session:
        request.session[CONTINUE_KEY] = request.session.pop(NEXT_KEY)


class MfaState(Enum):
    OK = "ok"
    NOT_SET_UP = "not_set_up"  # no authenticator app yet
    NOT_CONFIRMED = "not_confirmed"  # has one, but this session did not use it


def mfa_required(membership: Membership) -> bool:
    org = membership.organization
    return org.require_mfa or (org.require_mfa_for_auditors and membership.role == Role.AUDITOR)


def has_authenticator_app(user: object) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def mfa_state(request: HttpRequest, membership: Membership) -> MfaState:
    """Where the request stands against its organization's policy (no query when the
    organization requires nothing)."""
    if not mfa_required(membership):
        return MfaState.OK
    if not has_authenticator_app(request.user):
        return MfaState.NOT_SET_UP
    records = get_authentication_records(request, request.user)
    if not any(record.get("method") == "mfa" for record in records):
        return MfaState.NOT_CONFIRMED
    return MfaState.OK


def refusal_message(membership: Membership, state: MfaState) -> str:
    name = membership.organization.name
    if state is MfaState.NOT_SET_UP:
        return (
            f"{name} requires two-factor authentication: set up an authenticator app to continue."
        )
    return f"{name} requires two-factor authentication: confirm with a code from your app."


def enforce(request: HttpRequest, membership: Membership) -> HttpResponse | None:
    """None when the request may go on; a redirect to set up or confirm (page views) or
    ``PermissionDenied`` (anything else) when the organization's policy is not met."""
    state = mfa_state(request, membership)
    if state is MfaState.OK:
        if mfa_required(membership) and CONTINUE_KEY in request.session:
            del request.session[CONTINUE_KEY]  # arrived: the set-up pages stop offering it
        return None
    message = refusal_message(membership, state)
    if request.method not in ("GET", "HEAD"):
        raise PermissionDenied(message)
    messages.warning(request, message)
    target = "mfa_activate_totp" if state is MfaState.NOT_SET_UP else "mfa_reauthenticate"
    if state is MfaState.NOT_SET_UP:
        # allauth's set-up ends on the recovery codes, not on ``next``: remember the page.
        path = request.get_full_path()
        page = request.headers.get("HX-Request") != "true"  # not a fragment of one
        if page and path.startswith("/") and not path.startswith("//"):  # ours, never a host
            request.session[NEXT_KEY] = path
    url = reverse(target) + "?" + urlencode({"next": request.get_full_path()})
    if request.headers.get("HX-Request") == "true":
        # An htmx request (a polled fragment) would follow a redirect and swap the whole
        # set-up page into the fragment: have htmx load it as a page instead.
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


def mfa_policy_set(
    *,
    membership: Membership,
    require_mfa: bool,
    require_mfa_for_auditors: bool,
) -> Organization:
    """Change the organization's policy (owners and admins), logged. Requiring it of everyone
    is refused to someone without an authenticator app: they would lock themselves out."""
    permissions.require(membership, Action.ORG_MANAGE)
    if require_mfa and not has_authenticator_app(membership.user):
        raise ValidationFailed(
            "Set up two-factor authentication for yourself first: requiring it of everyone "
            "would lock you out.",
            field="require_mfa",
        )
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=membership.organization_id)
        changes = {
            name: [getattr(org, name), value]
            for name, value in (
                ("require_mfa", require_mfa),
                ("require_mfa_for_auditors", require_mfa_for_auditors),
            )
            if getattr(org, name) != value
        }
        if not changes:
            return org
        for name, (_, value) in changes.items():
            setattr(org, name, value)
        org.save(update_fields=list(changes))
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="update",
            target=org,
            changes=changes,
        )
    membership.organization = org
    return org
