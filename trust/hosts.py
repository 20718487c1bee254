"""A trust center on its own domain (``trust.example.com``): requests for a host that is not
the application's own are routed to the published trust center that names it, and only to
its pages (``/`` is its page, ``/documents/…`` its documents); any other path there is a 404.

Django refuses a host missing from ``ALLOWED_HOSTS`` (400) before this runs, so a custom
domain is served only once the operator added it there and to the proxy (README, Trust
center) *and* an owner configured it on a published trust center. The host → trust center
answer is cached for a minute (misses too), so unknown hosts cost no query each time; an
unpublished trust center is a 404 at once (its pages look it up again).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from trust.lookups import published_center

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "testserver"})
CACHE_SECONDS = 60


def app_hosts() -> frozenset[str]:
    return LOCAL_HOSTS | {(urlsplit(settings.SITE_URL).hostname or "").lower()}


def slug_for_host(host: str) -> str:
    """The slug of the published trust center served on ``host`` ("" for none)."""
    key = f"trust-host:{host}"
    slug = cache.get(key)
    if slug is None:
        center = published_center(host=host)
        slug = center.slug if center is not None else ""
        cache.set(key, slug, CACHE_SECONDS)
    return slug


class TrustHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        host = request.get_host().lower()
        if not host.startswith("["):
            host = host.rsplit(":", 1)[0]
        elif "]:" in host:
            host = host.rsplit(":", 1)[0]
        if host not in app_hosts() and not request.path_info.startswith(settings.STATIC_URL):
            slug = slug_for_host(host)
            if slug:
                prefix = f"/trust/{slug}"
                if not request.path_info.startswith(prefix + "/"):
                    request.path_info = prefix + request.path_info
                    request.path = request.path_info
        return self.get_response(request)
