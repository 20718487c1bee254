"""The default API permission: a signed-in user or an active API key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

if TYPE_CHECKING:  # DRF imports these modules while reading its settings: no cycles
    from rest_framework.request import Request
    from rest_framework.views import APIView


def api_key_of(request: Request) -> object | None:
    """The API key that authenticated ``request``, if any."""
    auth = getattr(request, "auth", None)
    return auth if getattr(auth, "is_api_key", False) else None


class IsAuthenticatedOrApiKey(BasePermission):
    """Global endpoints (the catalog) accept both; tenant endpoints add organization checks."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        key = api_key_of(request)
        if key is not None:
            return bool(key.is_active)
        return bool(request.user and request.user.is_authenticated)
