"""allauth's account adapter: our client address (``soc2app.client_ip``), and password sign-in
refused where single sign-on is required (``sso.signin.password_refusal``)."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.stagekit import clear_login
from django.http import HttpRequest, HttpResponse

from soc2app.client_ip import AccountAdapter as ClientIpAccountAdapter


class AccountAdapter(ClientIpAccountAdapter):
    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
        refused = super().pre_login(request, user, **kwargs)
        if refused is not None:
            return refused
        if (kwargs.get("signal_kwargs") or {}).get("sociallogin") is not None:
            return None  # a sign-in through an identity provider: sso.signin checked it
        from sso.signin import refuse_password

        response = refuse_password(request, user)
        if response is not None:
            clear_login(request)
        return response
