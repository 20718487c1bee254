"""Sending a person to the organization's identity provider through allauth's provider
(``redirect``), with our state: the mode (sign-in or test), the organization, and for OpenID
Connect a fresh nonce that the ID token must carry back (``sso.signin``).

The sign-in starts from a form (a POST, so no other site can start it), and our
Content-Security-Policy's ``form-action 'self'`` makes browsers refuse a form submission that
redirects to another origin. So the answer is a page that moves on to the identity provider
by itself (``<meta http-equiv="refresh">``, which that rule does not cover and which needs no
script), with a link for browsers that do not follow it.
"""

from __future__ import annotations

import secrets

import requests
from django.core.exceptions import DisallowedRedirect
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from sso import outbound, signin
from sso.apps_config import app_for
from sso.idp_checks import https_endpoint
from sso.models import ConnectionKind, SsoConnection
from tenants.models import Organization


def start(
    request: HttpRequest,
    org: Organization,
    connection: SsoConnection,
    *,
    mode: str,
    next_url: str | None = None,
    login_hint: str = "",
) -> HttpResponse:
    try:
        response = _redirect(request, org, connection, mode, next_url, login_hint)
        url = response.get("Location", "")
    except DisallowedRedirect:  # javascript:, data:, … (Django refuses to redirect there)
        response, url = HttpResponse(status=302), ""
    except requests.RequestException:
        # OpenID Connect's discovery document is read here: an address the SSRF guard
        # refuses, a provider that is down or one that answers garbage.
        return signin.refuse(
            request,
            org,
            "The identity provider could not be reached "
            f"({outbound.UNREACHABLE}): try again later, or an owner should check the "
            "connection under Settings → Single sign-on.",
            reason="idp_unreachable",
            status=502,
        ).response
    except (KeyError, TypeError, AttributeError):
        # A discovery document without the endpoints allauth reads (or not an object).
        return signin.refuse(
            request,
            org,
            "The identity provider's discovery document could not be used (it lacks the "
            "sign-in endpoints): an owner should check the connection under Settings → "
            "Single sign-on.",
            reason="idp_discovery_unusable",
            status=502,
        ).response
    if response.status_code != 302:
        return response  # allauth's own error page
    if not https_endpoint(url):
        # The discovery document is read again at each sign-in: an IdP that now names a
        # non-https (or javascript:) endpoint is not where a browser is sent.
        return signin.refuse(
            request,
            org,
            "The identity provider's sign-in address is not an https:// address: an owner "
            "should check the connection under Settings → Single sign-on.",
            reason="idp_not_https",
        ).response
    page = render(
        request,
        "sso/redirect.html",
        {"url": url, "org": org},
    )
    patch_cache_control(page, private=True, no_store=True)
    return page


def _redirect(
    request: HttpRequest,
    org: Organization,
    connection: SsoConnection,
    mode: str,
    next_url: str | None,
    login_hint: str,
) -> HttpResponse:
    provider = app_for(org, connection).get_provider(request)
    state = {"sso_mode": mode, "sso_org": org.pk}
    if connection.kind == ConnectionKind.OIDC:
        nonce = secrets.token_urlsafe(24)
        auth_params = {"nonce": nonce}
        if login_hint:
            auth_params["login_hint"] = login_hint
        return provider.redirect(
            request, "login", next_url=next_url, auth_params=auth_params, sso_nonce=nonce, **state
        )
    return provider.redirect(request, "login", next_url=next_url, **state)
