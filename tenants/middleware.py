"""Resolve the organization of ``/o/<org_slug>/...`` URLs and make it the current one.

Anonymous visitors are sent to the login page; signed-in users who are not (or no longer)
members get the same 404 as for an organization that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from tenants import context
from tenants.selectors import membership_for

LAST_ORG_SESSION_KEY = "last_org"


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
        return None
