"""A trust center on its own domain (``trust.example.com``): a request for a host listed in
``TRUST_HOSTS`` is routed to the published trust center that names it and *verified* it
(a DNS TXT record, ``trust.domains``; other organizations' unverified claims of the same
domain are never served, and one that loses its record is no longer served,
``trust.recheck``), and only to its pages (``/`` is its page,
``/documents/…`` its documents); any other path there, and every path of a listed host that
no published, verified trust center names, is a 404: such a host never serves the app.

The app's own hosts (the ``SITE_URL`` host, local names, and ``ALLOWED_HOSTS`` other than
``TRUST_HOSTS``) are never routed, and an owner cannot claim one (``is_app_host``). Django
refuses a host missing from ``ALLOWED_HOSTS`` (400) before this runs; settings add
``TRUST_HOSTS`` to it. The host → trust center answer is cached for a minute (misses too),
forgotten when a domain changes or is verified; an unpublished trust center is a 404 at
once (its pages look it up again).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import validate_host

from trust.lookups import published_center

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "testserver"})
CACHE_SECONDS = 60


def app_hosts() -> frozenset[str]:
    """The names the application itself is reached by, exactly (no patterns)."""
    return LOCAL_HOSTS | {(urlsplit(settings.SITE_URL).hostname or "").lower()}


def trust_hosts() -> frozenset[str]:
    return frozenset(h.lower().rstrip(".") for h in settings.TRUST_HOSTS)


def is_app_host(host: str) -> bool:
    """``host`` is one the application serves as itself: never a trust center's domain.
    ``ALLOWED_HOSTS`` patterns count (``.example.com``), except the catch-all ``*``."""
    host = host.lower().rstrip(".")
    if host in app_hosts():
        return True
    own = [h for h in settings.ALLOWED_HOSTS if h != "*" and h.lower() not in trust_hosts()]
    return validate_host(host, own)


def forget_host(host: str) -> None:
    if host:
        cache.delete(f"trust-host:{host}")


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
        if host in trust_hosts() and not is_app_host(host):
            slug = slug_for_host(host)
            if not slug:
                raise Http404("No trust center here.")
            if not request.path_info.startswith(settings.STATIC_URL):
                prefix = f"/trust/{slug}"
                if not request.path_info.startswith(prefix + "/"):
                    request.path_info = prefix + request.path_info
                    request.path = request.path_info
        return self.get_response(request)
