"""Sending a person to the organization's identity provider through allauth's provider
(``redirect``), with our state: the mode (sign-in or test), the organization, and for OpenID
Connect a fresh nonce that the ID token must carry back (``sso.signin``)."""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse

from sso.apps_config import app_for
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
