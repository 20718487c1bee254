"""Security headers on every response: a Content-Security-Policy on HTML, and no caching of
anything that belongs to a signed-in user or comes from the API.

The policy allows the app's own static files only: no inline script or style (templates keep
scripts and styles in ``static/``; the one dynamic width, an audit's period bars, is set by
``static/js/app.js`` from a data attribute), no frames of us elsewhere, forms posting only to
us. No template needs an inline script, so no nonce is issued. Views that set their own,
stricter policy (file downloads: ``sandbox``) keep it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def _is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().lower() == "text/html"


def _signed_in(request: HttpRequest) -> bool:
    # Only read when AuthenticationMiddleware ran (a response made before it has no user).
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _is_html(response) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        if request.path.startswith("/api/") or _signed_in(request):
            # Shared caches and the browser's back/forward cache must not keep a member's
            # pages or API data (a shared computer, a caching proxy).
            patch_cache_control(response, private=True, no_store=True)
        return response
