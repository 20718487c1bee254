"""Routes the pages of an organization that requires single sign-on to its identity provider
when this session was not signed in through it (see ``sso.signin``: the session says so, no
query). A user in two organizations signed in with a password keeps the other one's pages."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from sso.signin import REQUIRED_KEY, SIGNED_KEY

EXEMPT_URL_NAMES = frozenset({"sso_continue"})


class RequireSsoMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        membership = getattr(request, "membership", None)
        if membership is None:
            return None
        org_id = membership.organization_id
        if org_id not in request.session.get(REQUIRED_KEY, ()):
            return None
        if org_id in request.session.get(SIGNED_KEY, ()):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in EXEMPT_URL_NAMES:
            return None
        message = f"{membership.organization.name} requires single sign-on."
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied(message)
        messages.warning(request, message)
        return redirect("sso_continue", org_slug=membership.organization.slug)
