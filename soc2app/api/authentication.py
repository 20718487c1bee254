"""``Authorization: Bearer <key>`` for integrations (browser sessions keep SessionAuthentication).

A request with a key authenticates as ``(AnonymousUser(), api_key)``: the key is the principal
(``request.auth``); the API's tenancy base resolves the organization from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from tenants.apikeys import InvalidKey, api_key_authenticate
from tenants.models import ApiKey

if TYPE_CHECKING:  # DRF imports these modules while reading its settings: no cycles
    from rest_framework.request import Request


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: another scheme, or a browser session
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: use “Bearer <API key>” with no spaces in the key.",
                code="invalid_api_key",
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(
                "Malformed API key: it contains characters a key never has.",
                code="invalid_api_key",
            ) from exc
        try:
            key = api_key_authenticate(raw)
        except InvalidKey as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with this challenge) rather than 403 when credentials are missing.
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """The scheme as the OpenAPI schema shows it (``bearerAuth``)."""

    target_class = ApiKeyAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sk_<8 characters>_<secret>",
            "description": "An API key created at /o/<slug>/settings/api-keys/ or with "
            "`manage.py create_api_key`.",
        }
