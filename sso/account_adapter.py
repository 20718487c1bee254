"""allauth's account adapter: our client address (``soc2app.client_ip``), and password sign-in
refused where single sign-on is required (``sso.signin.password_refusal``)."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.stagekit import clear_login
from django.http import HttpRequest, HttpResponse

from soc2app.client_ip import AccountAdapter as ClientIpAccountAdapter
from sso.apps_config import PENDING_PROVIDER_KEY


class AccountAdapter(ClientIpAccountAdapter):
    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
        refused = super().pre_login(request, user, **kwargs)
        if refused is not None:
            return refused
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None:
            # A sign-in through an identity provider (sso.signin checked it); allauth may
            # pause it for the TOTP step and must find its app again then (sso.adapter).
            request.session[PENDING_PROVIDER_KEY] = sociallogin.account.provider
            return None
        from sso.signin import refuse_password

        response = refuse_password(request, user)
        if response is not None:
            clear_login(request)
        return response
