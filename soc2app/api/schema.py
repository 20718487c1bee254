"""OpenAPI additions: the error shape on every operation, and tenant models in filters.

Every error of the API has one shape, ``{"detail", "code"}`` (``soc2app.api.errors``); rather
than repeat it on each view, a post-processing hook adds it as the ``Error`` component and as
the 4xx responses each operation can give.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.plumbing import get_view_model

from soc2app.api.tenancy import ORG_SLUG_KWARG
from tenants.scoping import TenantModel

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error response has this shape.",
    "properties": {
        "detail": {
            "type": "string",
            "description": "What went wrong, and what to do about it.",
        },
        "code": {"type": "string", "description": "A stable, machine-readable code."},
        "errors": {
            "type": "object",
            "additionalProperties": {},
            "description": "Validation errors only: the messages for each field of the input.",
        },
    },
    "required": ["detail", "code"],
}

ALWAYS = {
    "400": "Invalid input: a query parameter, the body or a field (see `errors`).",
    "401": "No valid credentials (an API key that is unknown, revoked or expired).",
    "403": "Not signed in, or your role does not allow this action.",
    "404": "No such resource here: it does not exist or belongs to another organization.",
}
WITH_BODY = {
    "413": "The body is too large.",
    "415": "Send the body as one of the documented content types.",
}


ORG_SLUG_HELP = (
    "The organization's slug, as in its web address (/o/<slug>/); an API key works only in "
    "its own organization."
)


IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes the request safe to retry: a unique value per distinct request "
    "(a UUID; 8-255 letters, digits or `-_.:`). The first successful answer is kept for a "
    "day; sending the key again with the same body returns that answer (with "
    "`Idempotent-Replayed: true`) and writes nothing again. The same key with another body, "
    "path or caller is a 409; while the first request with the key still runs, also a 409.",
    "schema": {"type": "string", "minLength": 8, "maxLength": 255, "pattern": "^[A-Za-z0-9_.:-]+$"},
}
IDEMPOTENCY_CONFLICT = (
    "The Idempotency-Key was used for another request, or its first request is still running."
)
WRITES = ("post", "put", "patch", "delete")
OUTCOME_UNKNOWN = (
    "The database could not be reached; `code` says whether nothing was saved "
    "(`unavailable`) or the outcome is unknown (`outcome_unknown`: retry with the same "
    "Idempotency-Key)."
)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def add_error_responses(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular post-processing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if method in WRITES and path.startswith("/api/v1/orgs/"):
                operation["responses"].setdefault("503", _error(OUTCOME_UNKNOWN))
                if method == "post":
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                    operation["responses"].setdefault("409", _error(IDEMPOTENCY_CONFLICT))
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == ORG_SLUG_KWARG and parameter.get("in") == "path":
                    parameter["description"] = ORG_SLUG_HELP
            errors = dict(ALWAYS)
            if "requestBody" in operation:
                errors.update(WITH_BODY)
            for status, description in errors.items():
                operation["responses"].setdefault(status, _error(description))
    return result


class TenantFilterExtension(DjangoFilterExtension):
    """drf-spectacular reads a filtered view's model through its default manager, which for a
    tenant model refuses to run with no current organization (there is none while the schema
    is generated). This reads it through the plain base manager: ``none()`` touches no rows."""

    priority = 1

    def get_schema_operation_parameters(self, auto_schema: Any, *args: Any, **kwargs: Any) -> list:
        model = get_view_model(auto_schema.view)
        if model is None or not issubclass(model, TenantModel):
            return super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        filterset_class = self.target.get_filterset_class(
            auto_schema.view, model._base_manager.none()
        )
        if not filterset_class:
            return []
        result: list = []
        for field_name, filter_field in filterset_class.base_filters.items():
            result += self.resolve_filter_field(
                auto_schema, model, filterset_class, field_name, filter_field
            )
        return result
