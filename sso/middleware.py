"""Refuses the pages of an organization that requires single sign-on to a session that was
not signed in through its identity provider (see ``sso.signin``), from the request after the
requirement was turned on: a member signed in with a password before that is sent to the
*Continue to single sign-on* page (writes are refused). The break-glass owner is not.

Cheap: ``Organization.sso_required`` comes with the membership, so an organization that does
not require single sign-on costs no query, nor does a session signed in through its IdP; only
a session that may be refused reads the connection (to spare the break-glass owner). A user in
two organizations signed in with a password keeps the other one's pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from sso.signin import SIGNED_KEY, must_use_sso
from tenants.models import Membership

logger = logging.getLogger("sso")

EXEMPT_URL_NAMES = frozenset({"sso_continue"})


def sso_refusal(request: HttpRequest, membership: Membership) -> str | None:
    """Why this session may not act in ``membership``'s organization (it requires single
    sign-on and this session did not sign in through it), or None. The API asks this too
    (``soc2app.api.tenancy``): its URLs are outside the middleware's ``org_slug`` pages."""
    org = membership.organization
    if not org.sso_required:
        return None
    session = getattr(request, "session", None)
    if session is not None and org.pk in session.get(SIGNED_KEY, ()):
        return None
    if not must_use_sso(membership):
        return None
    logger.info(
        "session refused: single sign-on required",
        extra={"org": org.pk, "user": membership.user_id},
    )
    return (
        f"{org.name} requires single sign-on: this session was not signed in through its "
        "identity provider."
    )


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
        match = request.resolver_match
        if match is not None and match.url_name in EXEMPT_URL_NAMES:
            return None
        message = sso_refusal(request, membership)
        if message is None:
            return None
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied(f"{message} Continue to single sign-on first.")
        messages.warning(request, message)
        url = reverse("sso_continue", kwargs={"org_slug": membership.organization.slug})
        path = request.get_full_path()
        if path.startswith("/") and not path.startswith("//"):
            url += "?" + urlencode({"next": path})
        if request.headers.get("HX-Request") == "true":
            # A polled fragment would swap the whole page into itself: load it as a page.
            return HttpResponse(status=204, headers={"HX-Redirect": url})
        return redirect(url)
