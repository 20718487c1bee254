"""Browser views for organizations, members, invitations and the activity log.

Each view validates input, calls a service or selector and renders; the organization and
membership come from ``TenantMiddleware`` (``request.organization`` / ``request.membership``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from soc2app.errors import DomainError, NotPermitted, ValidationFailed
from soc2app.forms import add_domain_error
from tenants import mfa, permissions, policies, selectors, services
from tenants.activity_display import present_entries
from tenants.forms import (
    InvitationForm,
    MfaPolicyForm,
    OrganizationForm,
    ReviewPolicyForm,
    RoleForm,
)
from tenants.middleware import LAST_ORG_SESSION_KEY
from tenants.models import Role
from tenants.permissions import Action
from tenants.views_access import settings_page, who_can

ACTIVITY_PAGE_SIZE = 50


def home(request: HttpRequest) -> HttpResponse:
    """Signed-in users land in the organization they used last; others at the login page."""
    if not request.user.is_authenticated:
        return redirect("account_login")
    memberships = list(selectors.memberships_of(request.user))
    if not memberships:
        return redirect("org_list")
    last = request.session.get(LAST_ORG_SESSION_KEY)
    chosen = next((m for m in memberships if m.organization.slug == last), memberships[0])
    return redirect("org_home", org_slug=chosen.organization.slug)


@login_required
def org_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "tenants/org_list.html", {"memberships": selectors.memberships_of(request.user)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{org.name} is ready. Invite your colleagues next.")
            return redirect("org_home", org_slug=org.slug)
    return render(request, "tenants/org_create.html", {"form": form})


def members(request: HttpRequest, org_slug: str) -> HttpResponse:
    return _render_members(
        request, InvitationForm(roles=permissions.grantable_roles(request.membership))
    )


def _render_members(request: HttpRequest, form: InvitationForm, status: int = 200) -> HttpResponse:
    membership = request.membership
    context = {
        "members": selectors.members_list(request.organization),
        "invitations": selectors.invitations_pending(request.organization),
        "form": form,
        "roles": [(r, Role(r).label) for r in permissions.grantable_roles(membership)],
        "manageable_roles": permissions.grantable_roles(membership),
    }
    return render(request, "tenants/members.html", context, status=status)


@require_POST
def invitation_create(request: HttpRequest, org_slug: str) -> HttpResponse:
    permissions.require(request.membership, Action.MEMBER_MANAGE)
    form = InvitationForm(request.POST, roles=permissions.grantable_roles(request.membership))
    if form.is_valid():
        try:
            result = services.invitation_create(
                membership=request.membership,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                access_expires_at=form.access_expires_at,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Invitation sent to {result.invitation.email}.")
            return redirect("members", org_slug=org_slug)
    return _render_members(request, form, status=400)


@require_http_methods(["GET", "POST"])
def invitation_revoke(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """GET: asks to confirm (who was invited, as what); POST: withdraws the invitation."""
    invitation = selectors.get_invitation_for(request.membership, pk)
    if request.method == "GET":
        permissions.require(request.membership, Action.MEMBER_MANAGE)
        return render(request, "tenants/invitation_revoke.html", {"invitation": invitation})
    services.invitation_revoke(membership=request.membership, invitation=invitation)
    messages.success(request, f"The invitation of {invitation.email} was withdrawn.")
    return redirect("members", org_slug=org_slug)


@require_POST
def member_role(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    target = selectors.get_membership_for(request.membership, pk)
    form = RoleForm(request.POST, roles=permissions.grantable_roles(request.membership))
    if not form.is_valid():
        permissions.require(request.membership, Action.MEMBER_MANAGE)
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("members", org_slug=org_slug)
    try:
        withdrawn = services.membership_change_role(
            membership=request.membership,
            target=target,
            role=form.cleaned_data["role"],
            access_expires_at=form.access_expires_at,
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("members", org_slug=org_slug)
    until = ""
    if target.expires_at:
        until = f" until {timezone.localtime(target.expires_at):%d %b %Y %H:%M}"
    gone = [
        f"{n} {noun}{pluralize(n)}"
        for n, noun in (
            (len(withdrawn.api_keys), "API key"),
            (len(withdrawn.invitations), "invitation"),
        )
        if n
    ]
    also = (
        f" The new role cannot keep what they handed out: {' and '.join(gone)} withdrawn."
        if gone
        else ""
    )
    messages.success(
        request, f"{target.user.email} is now {target.get_role_display()}{until}.{also}"
    )
    return redirect("members", org_slug=org_slug)


@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """GET: what removing this member withdraws (their pending invitations, the API keys they
    created); POST: remove them and withdraw it."""
    permissions.require(request.membership, Action.MEMBER_MANAGE)
    target = selectors.get_membership_for(request.membership, pk)
    if request.method == "GET":
        if not permissions.can_manage_member(request.membership, target):
            raise NotPermitted("Your role cannot change or remove a member with this role.")
        context = {"target": target, "grants": selectors.grants_of(target)}
        return render(request, "tenants/member_remove.html", context)
    grants = services.membership_remove(membership=request.membership, target=target)
    withdrawn = []
    if grants.invitations:
        withdrawn.append(f"{len(grants.invitations)} pending invitation(s) withdrawn")
    if grants.api_keys:
        withdrawn.append(f"{len(grants.api_keys)} API key(s) revoked")
    if grants.credentials:
        withdrawn.append(f"{len(grants.credentials)} SCIM token(s) revoked")
    extra = f" ({'; '.join(withdrawn)})" if withdrawn else ""
    messages.success(request, f"{target.user.email} no longer has access{extra}.")
    return redirect("members", org_slug=org_slug)


def activity(request: HttpRequest, org_slug: str) -> HttpResponse:
    permissions.require(request.membership, Action.ACTIVITY_VIEW)
    page = Paginator(selectors.activity_list(request.organization), ACTIVITY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    entries = present_entries(page.object_list, request.organization)
    return render(request, "tenants/activity.html", {"page": page, "entries": entries})


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Shows what the invitation is for; a signed-in user with the invited address accepts it."""
    try:
        invitation = services.invitation_for_token(token)
    except DomainError as exc:
        return render(
            request, "tenants/invitation.html", {"problem": exc.message}, status=exc.status
        )
    problem = services.invitation_problem(invitation)
    if request.method == "POST" and not problem:
        if not request.user.is_authenticated:
            return redirect(f"{request.path}")
        try:
            membership = services.invitation_accept(user=request.user, token=token)
        except DomainError as exc:
            problem = exc.message
        else:
            messages.success(request, f"Welcome to {membership.organization.name}.")
            return redirect("org_home", org_slug=membership.organization.slug)
    context = {"invitation": invitation, "problem": problem}
    return render(request, "tenants/invitation.html", context, status=400 if problem else 200)


@require_http_methods(["GET", "POST"])
@settings_page(Action.ORG_MANAGE, "the security settings")
def security(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The organization's two-factor policy (owners and admins)."""
    org = request.organization
    initial = {
        "require_mfa": org.require_mfa,
        "require_mfa_for_auditors": org.require_mfa_for_auditors,
    }
    form = MfaPolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            mfa.mfa_policy_set(membership=request.membership, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Two-factor policy saved.")
            return redirect("org_security", org_slug=org.slug)
    context = {
        "form": form,
        "has_app": mfa.has_authenticator_app(request.user),
        "members": selectors.members_list(org),
        "review_form": ReviewPolicyForm(
            initial={"require_independent_review": org.require_independent_review}
        ),
        "can_change_review": permissions.can(request.membership, Action.REVIEW_POLICY_MANAGE),
        "review_owners": who_can(org, Action.REVIEW_POLICY_MANAGE),
    }
    return render(request, "tenants/security.html", context, status=400 if form.errors else 200)


@require_POST
def security_review_policy(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Segregation of duties on or off (owners; the service checks and logs)."""
    form = ReviewPolicyForm(request.POST)
    form.is_valid()  # a lone optional checkbox: always valid (absent means off)
    org = policies.review_policy_set(
        membership=request.membership,
        require_independent_review=form.cleaned_data["require_independent_review"],
    )
    on = org.require_independent_review
    messages.success(
        request,
        "Evidence is now reviewed by someone other than its uploader."
        if on
        else "Uploaders may now review their own evidence.",
    )
    return redirect("org_security", org_slug=org_slug)
