"""The SCIM 2.0 wire format we speak (RFC 7643/7644): errors, the User resource, and the
discovery documents (``/ServiceProviderConfig``, ``/ResourceTypes``, ``/Schemas``).

Only what identity providers (Okta, Microsoft Entra ID) use is offered: Users (no Groups), the
``eq`` filter, PATCH, no bulk, no sorting, no ETags, no password changes.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from tenants.models import Membership

CONTENT_TYPE = "application/scim+json"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SP_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
MAX_RESULTS = 200


class ScimError(Exception):
    """A refusal in the SCIM error schema; ``scim_type`` as RFC 7644 §3.12 names them."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


def respond(body: dict[str, Any] | None, status: int = 200, **headers: str) -> HttpResponse:
    content = b"" if body is None else json.dumps(body).encode()
    response = HttpResponse(content, status=status, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error_response(error: ScimError) -> HttpResponse:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(error.status), "detail": error.detail}
    if error.scim_type:
        body["scimType"] = error.scim_type
    headers = {"WWW_Authenticate": 'Bearer realm="scim"'} if error.status == 401 else {}
    return respond(body, error.status, **headers)


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def user_resource(membership: Membership, base_url: str) -> dict[str, Any]:
    """A member as a SCIM User. ``membership`` comes with ``user`` and ``scim_link`` loaded
    (``scim.selectors``), so rendering a page of them makes no query."""
    user = membership.user
    link = getattr(membership, "scim_link", None)
    given, family = user.first_name or "", user.last_name or ""
    formatted = f"{given} {family}".strip()
    resource: dict[str, Any] = {
        "schemas": [USER],
        "id": str(membership.pk),
        "userName": user.email,
        "name": {"givenName": given, "familyName": family, "formatted": formatted},
        "displayName": formatted or user.email,
        "emails": [{"value": user.email, "type": "work", "primary": True}],
        "active": membership.is_active,
        "roles": [
            {"value": membership.role, "display": membership.get_role_display(), "primary": True}
        ],
        "meta": {
            "resourceType": "User",
            "created": _iso(membership.created_at),
            "lastModified": _iso(link.updated_at if link else membership.created_at),
            "location": f"{base_url}Users/{membership.pk}",
        },
    }
    if link is not None and link.external_id:
        resource["externalId"] = link.external_id
    return resource


def list_response(resources: list[dict[str, Any]], total: int, start: int) -> dict[str, Any]:
    return {
        "schemas": [LIST],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def service_provider_config(base_url: str) -> dict[str, Any]:
    return {
        "schemas": [SP_CONFIG],
        "documentationUri": f"{base_url}ServiceProviderConfig",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A SCIM token of the organization (Settings → Provisioning).",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url}ServiceProviderConfig",
        },
    }


def resource_type_user(base_url: str) -> dict[str, Any]:
    return {
        "schemas": [RESOURCE_TYPE],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A member of the organization",
        "schema": USER,
        "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
        "meta": {"resourceType": "ResourceType", "location": f"{base_url}ResourceTypes/User"},
    }


def _attr(name: str, kind: str = "string", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "multiValued": False,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    } | extra


def schemas(base_url: str) -> list[dict[str, Any]]:
    name = _attr(
        "name",
        "complex",
        subAttributes=[_attr("givenName"), _attr("familyName"), _attr("formatted")],
    )
    emails = _attr(
        "emails",
        "complex",
        multiValued=True,
        subAttributes=[_attr("value"), _attr("type"), _attr("primary", "boolean")],
    )
    roles = _attr(
        "roles",
        "complex",
        multiValued=True,
        description="contributor or compliance_manager; SCIM never gives owner or admin.",
        subAttributes=[_attr("value"), _attr("display"), _attr("primary", "boolean")],
    )
    user_attributes = [
        _attr("userName", required=True, uniqueness="server", description="The e-mail address."),
        name,
        _attr("displayName"),
        emails,
        _attr("active", "boolean"),
        _attr("externalId", caseExact=True),
        _attr("title"),
        roles,
    ]
    return [
        {
            "schemas": [SCHEMA],
            "id": USER,
            "name": "User",
            "description": "A member of the organization",
            "attributes": user_attributes,
            "meta": {"resourceType": "Schema", "location": f"{base_url}Schemas/{USER}"},
        },
        {
            "schemas": [SCHEMA],
            "id": ENTERPRISE,
            "name": "EnterpriseUser",
            "description": "Enterprise user (only department is used)",
            "attributes": [_attr("department")],
            "meta": {"resourceType": "Schema", "location": f"{base_url}Schemas/{ENTERPRISE}"},
        },
    ]
