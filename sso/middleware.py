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


def sso_refusal(request: HttpRequest, membership: object) -> str | None:
    """Why this session may not act in ``membership``'s organization (it requires single
    sign-on and this session did not sign in through it), or None. The API asks this too
    (``soc2app.api.tenancy``): its URLs are outside the middleware's ``org_slug`` pages."""
    org_id = membership.organization_id  # type: ignore[attr-defined]
    session = getattr(request, "session", None)
    if session is None or org_id not in session.get(REQUIRED_KEY, ()):
        return None
    if org_id in session.get(SIGNED_KEY, ()):
        return None
    return f"{membership.organization.name} requires single sign-on."  # type: ignore[attr-defined]


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
        message = sso_refusal(request, membership)
        if message is None:
            return None
        match = request.resolver_match
        if match is not None and match.url_name in EXEMPT_URL_NAMES:
            return None
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied(message)
        messages.warning(request, message)
        return redirect("sso_continue", org_slug=membership.organization.slug)
