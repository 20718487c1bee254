"""What the public pages behind personal links share (no account needed): a rate limit per
client address, then the link resolved or refused with a clear page (``link_page``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from soc2app.client_ip import client_ip
from soc2app.errors import DomainError
from soc2app.ratelimit import ip_bucket, window_consume

WINDOW = 600


def refused(request: HttpRequest, template: str, message: str, status: int) -> HttpResponse:
    return render(request, template, {"message": message}, status=status)


def link_page(*, bucket: str, refused_template: str, resolve: Callable[[str, str], Any]):
    """Decorate the view of a personal link's page, ``view(request, link, ip)``: it runs once
    the client is under its rate limit and ``resolve(organization, token)`` found the link;
    otherwise the refusal page says why."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def page(request: HttpRequest, organization: str, token: str) -> HttpResponse:
            # The kwarg is not ``org_slug``: TenantMiddleware would ask for a sign-in.
            ip = client_ip(request)
            if (
                window_consume(bucket, ip_bucket(ip), window=WINDOW)
                > settings.POLICY_LINK_RATE_PER_IP
            ):
                message = "Too many attempts from your address: wait ten minutes."
                return refused(request, refused_template, message, 429)
            try:
                link = resolve(organization, token)
            except DomainError as exc:
                return refused(request, refused_template, exc.message, exc.status)
            return view(request, link, ip)

        return page

    return decorate
