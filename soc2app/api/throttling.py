"""Rate limit per API key, in Django's configured cache (Redis in production, so shared by
every web process). Browser sessions are not throttled here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from soc2app.api.permissions import api_key_of

if TYPE_CHECKING:  # DRF imports these modules while reading its settings: no cycles
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        # Read at request time (not import time) so the setting can change without a restart
        # of the class machinery, and tests can lower it.
        return settings.API_KEY_RATE

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        key = api_key_of(request)
        if key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.pk}
