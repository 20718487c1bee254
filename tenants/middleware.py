"""Resolve the organization of ``/o/<org_slug>/...`` URLs and make it the current one.

Anonymous visitors are sent to the login page; signed-in users who are not (or no longer)
members get the same 404 as for an organization that does not exist.

Auditor memberships see only the auditor portal (URL names starting with ``portal_``, see
``reports.urls``): any other organization page sends them to the portal home (GET/HEAD) or is
refused with 403 (any other method), before the view runs.

An organization that requires two-factor authentication gets it enforced here too
(``tenants.mfa``), for every page of it, the auditor portal included.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from tenants import context, mfa
from tenants.models import Role
from tenants.selectors import membership_for

LAST_ORG_SESSION_KEY = "last_org"
PORTAL_URL_PREFIX = "portal_"


def auditor_confined(request: HttpRequest, slug: str) -> HttpResponse | None:
    """Keep an auditor membership inside the portal: None when the page is a portal page."""
    match = request.resolver_match
    if match is not None and (match.url_name or "").startswith(PORTAL_URL_PREFIX):
        return None
    if request.method in ("GET", "HEAD"):
        return redirect("portal_home", org_slug=slug)
    raise PermissionDenied("Auditors can only read the audits they were invited to.")


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.organization = None
        request.membership = None
        try:
            return self.get_response(request)
        finally:
            token = getattr(request, "_tenant_token", None)
            if token is not None:
                context.deactivate(token)
                request._tenant_token = None

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        slug = view_kwargs.get("org_slug")
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = membership_for(user=request.user, org_slug=slug)
        if membership is None:
            raise Http404("No such organization.")
        request.organization = membership.organization
        request.membership = membership
        request._tenant_token = context.activate(membership.organization)
        if request.session.get(LAST_ORG_SESSION_KEY) != slug:
            request.session[LAST_ORG_SESSION_KEY] = slug
        refused = mfa.enforce(request, membership)
        if refused is not None:
            return refused
        if membership.role == Role.AUDITOR:
            return auditor_confined(request, slug)
        return None
