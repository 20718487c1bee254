"""allauth's social account adapter for single sign-on: apps come from the organization's
connection (``sso.apps_config``), returns are checked by ``sso.signin``, and protocol failures
are logged and explained."""

from __future__ import annotations

from typing import Any

import requests
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.http import HttpRequest

from sso import outbound, signin
from sso.apps_config import ORG_SETTING, PENDING_PROVIDER_KEY, apps_for
from tenants.models import Organization

# allauth's messages that carry nothing the identity provider sent.
FIXED_MESSAGES = frozenset({"Invalid id_token"})


def _reason(error: Any, exception: Any, extra_context: dict | None) -> str:
    """What went wrong, never what the other side sent: allauth's exception messages carry
    the response body of the token or userinfo endpoint (``OAuth2Error(f"... {resp.content}")``),
    which must not reach the page or the activity log. python3-saml's reasons are its own
    fixed texts about the assertion."""
    saml = (extra_context or {}).get("saml_last_error_reason")
    if saml:
        return str(saml)[:300]
    if exception is not None:
        if isinstance(exception, requests.RequestException) or isinstance(
            exception.__cause__, requests.RequestException
        ):
            return f"the identity provider could not be reached ({outbound.UNREACHABLE})"
        cause = exception.__cause__
        names = type(exception).__name__ + (f", {type(cause).__name__}" if cause else "")
        if str(exception) in FIXED_MESSAGES:
            return f"{exception} ({names})"
        return f"the identity provider's answer could not be used ({names})"
    return str(error or "unknown error")


class SsoSocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        if provider == "openid_connect" and client_id and request is not None:
            # allauth serializes a login paused for the TOTP step as ("openid_connect", the
            # IdP's client id), which names no organization: the session says which
            # sign-in is pending (``sso.account_adapter``).
            pending = request.session.get(PENDING_PROVIDER_KEY)
            found = apps_for(pending, None) if pending else []
            return [app for app in found if app.client_id == client_id]
        return apps_for(provider, client_id)

    def get_requests_session(self) -> requests.Session:
        """Discovery, token and userinfo requests go through the SSRF guard, with no
        redirects (``sso.outbound``)."""
        return outbound.session()

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False  # sso.signin links or creates the user itself, never allauth's signup

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        signin.accept(request, sociallogin)

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: dict | None = None,
    ) -> None:
        """The identity provider's answer did not pass allauth's checks (signature, issuer,
        audience, validity window, state): refused with the reason, and logged."""
        app = getattr(provider, "app", None)
        org_id = (app.settings or {}).get(ORG_SETTING) if app is not None else None
        org = Organization.objects.filter(pk=org_id).first() if org_id else None
        reason = _reason(error, exception, extra_context)
        raise signin.refuse(
            request,
            org,
            f"The identity provider's answer was refused: {reason}. Sign in again; if it "
            "keeps failing, an owner should check the connection under Settings → Single "
            "sign-on.",
            reason="protocol",
            detail=reason[:300],
        )
