"""Cross-organization checks that every organization URL gets for free.

``org_url_patterns()`` walks the URL configuration and yields every route under
``/o/<org_slug>/``; a new view is covered by ``tests/tenants/test_isolation.py`` the moment it
is routed. Object-level checks (a pk of another organization under your own slug) use
``assert_foreign_object_404``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

_CONVERTER_SAMPLES = {
    "int": "1",
    "slug": "sample",
    "str": "sample",
    "uuid": "00000000-0000-0000-0000-000000000001",
    "path": "sample",
}


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p.name or ""


def org_url_patterns() -> list[tuple[str, str]]:
    """(route, url name) of every route that takes ``org_slug``."""
    return sorted({(r, n) for r, n in _walk(get_resolver().url_patterns) if "<slug:org_slug>" in r})


def build_path(route: str, org_slug: str) -> str:
    path = route.replace("<slug:org_slug>", org_slug)

    def sample(match: re.Match) -> str:
        converter = match.group(1) or "str"
        return _CONVERTER_SAMPLES.get(converter, "sample")

    path = re.sub(r"<(?:(\w+):)?\w+>", sample, path)
    path = path.lstrip("^").rstrip("$")
    return "/" + path.lstrip("/")


def assert_foreign_object_404(
    client: Client, path: str, *, methods: tuple[str, ...] = ("get", "post")
) -> None:
    """A member asking for another organization's object under their own slug gets 404."""
    for method in methods:
        response = getattr(client, method)(path)
        assert response.status_code == 404, f"{method.upper()} {path} -> {response.status_code}"
