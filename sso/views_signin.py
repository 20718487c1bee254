"""Signing in with single sign-on: by e-mail address (the domain names the organization), or,
for a signed-in member whose organization requires it, straight to its identity provider."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from soc2app.client_ip import client_ip
from sso import domains, lookups, selectors
from sso.forms import EmailForm
from sso.signin import MODE_LOGIN
from sso.signin_limits import TooManySignInStarts, signin_start_consume
from sso.start import start
from tenants.context import org_scope
from tenants.models import Organization


def _safe_next(request: HttpRequest, value: str | None) -> str | None:
    if value and url_has_allowed_host_and_scheme(value, {request.get_host()}, request.is_secure()):
        return value
    return None


@require_http_methods(["GET", "POST"])
def sso_login(request: HttpRequest) -> HttpResponse:
    """Sign in with single sign-on: the address's domain must be verified by an organization
    whose connection is enabled; the person is then sent to that organization's IdP. Each
    attempt counts against its client address and the typed address (``sso.signin_limits``):
    over either limit, the page says so (429) and nothing else happens."""
    form = EmailForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    if request.method != "POST":
        return render(request, "sso/login.html", {"form": form})
    email = form.cleaned_data["email"].strip().lower() if form.is_valid() else None
    try:
        signin_start_consume(ip=client_ip(request), email=email)
    except TooManySignInStarts as exc:
        form.add_error(None, exc.message)
        return render(request, "sso/login.html", {"form": form}, status=exc.status)
    if email is not None:
        domain = domains.normalize(email) or ""
        org_id = lookups.organization_id_for_domain(domain) if domain else None
        org = Organization.objects.filter(pk=org_id).first() if org_id else None
        connection = None
        if org is not None:
            with org_scope(org):
                connection = selectors.connection_for(org)
        if connection is not None and connection.enabled:
            next_url = _safe_next(request, form.cleaned_data.get("next"))
            with org_scope(org):
                return start(
                    request, org, connection, mode=MODE_LOGIN, next_url=next_url, login_hint=email
                )
        form.add_error(
            "email",
            f"No organization signs in {domain or 'this domain'} with single sign-on: "
            "sign in with your password instead.",
        )
    return render(request, "sso/login.html", {"form": form}, status=400)


@require_http_methods(["GET", "POST"])
def sso_continue(request: HttpRequest, org_slug: str) -> HttpResponse:
    """A member of an organization that requires single sign-on, signed in otherwise: one
    button to its identity provider (a POST, so no page can start it behind their back)."""
    org = request.organization
    connection = selectors.connection_for(org)
    if connection is None or not connection.enabled:
        messages.error(request, f"Single sign-on is not enabled for {org.name}.")
        return redirect("home")
    if request.method == "POST":
        next_url = _safe_next(request, request.POST.get("next")) or f"/o/{org.slug}/"
        return start(
            request,
            org,
            connection,
            mode=MODE_LOGIN,
            next_url=next_url,
            login_hint=request.user.email,
        )
    return render(request, "sso/continue.html", {"next": request.GET.get("next", "")})
