"""The SCIM 2.0 endpoints, under ``/scim/v2/<organization slug>/``.

Outside DRF and its schema on purpose: SCIM has its own media type, error schema, pagination
and PATCH, and IdPs test exactly those. Every request: the organization from the URL, then the
bearer token looked up inside it (``scim.tokens``), then the handler with that organization as
the current one (``tenants.context``), so the managers and row-level security scope every
query to it. Any refusal is a SCIM error (RFC 7644 §3.12), never a 500 for bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from scim import parse, protocol, selectors, services
from scim.models import ScimToken
from scim.protocol import ScimError, respond
from scim.tokens import scim_token_authenticate
from soc2app.errors import DomainError
from tenants.context import org_scope
from tenants.models import Organization

Handler = Callable[..., HttpResponse]
_DOMAIN_TYPES = {400: "invalidValue", 409: "uniqueness"}
# Past any real organization's size; keeps OFFSET within the database's integer range.
MAX_START = 10_000_000


def _base_url(request: HttpRequest, organization: str) -> str:
    return request.build_absolute_uri(f"/scim/v2/{organization}/")


def scim_endpoint(methods: tuple[str, ...]) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @csrf_exempt
        @wraps(handler)
        def view(request: HttpRequest, organization: str, **kwargs: str) -> HttpResponse:
            org = Organization.objects.filter(slug=organization).first()
            header = request.headers.get("Authorization", "")
            scheme, _, raw = header.partition(" ")
            if org is None or scheme.lower() != "bearer" or not raw.strip():
                return protocol.error_response(
                    ScimError(401, "Send Authorization: Bearer <SCIM token of this organization>.")
                )
            with org_scope(org):
                try:
                    token = scim_token_authenticate(org, raw.strip())
                except ScimError as exc:  # a token whose creator no longer has access
                    return protocol.error_response(exc)
                if token is None:
                    return protocol.error_response(
                        ScimError(401, "Unknown or revoked SCIM token for this organization.")
                    )
                token.organization = org
                if request.method not in methods:
                    return protocol.error_response(
                        ScimError(405, f"{request.method} is not supported here.")
                    )
                try:
                    return handler(request, token, _base_url(request, organization), **kwargs)
                except ScimError as exc:
                    return protocol.error_response(exc)
                except IntegrityError:
                    # The same userName or address written concurrently: the loser's
                    # transaction was rolled back whole.
                    return protocol.error_response(
                        ScimError(409, "The user was just created or changed; retry.", "uniqueness")
                    )
                except DomainError as exc:
                    status = exc.status if exc.status in (400, 403, 404, 409) else 400
                    return protocol.error_response(
                        ScimError(status, exc.message, _DOMAIN_TYPES.get(status))
                    )

        return view

    return decorate


@scim_endpoint(("GET",))
def service_provider_config(request: HttpRequest, token: ScimToken, base: str) -> HttpResponse:
    return respond(protocol.service_provider_config(base))


@scim_endpoint(("GET",))
def resource_types(request: HttpRequest, token: ScimToken, base: str) -> HttpResponse:
    return respond(protocol.list_response([protocol.resource_type_user(base)], 1, 1))


@scim_endpoint(("GET",))
def resource_type(request: HttpRequest, token: ScimToken, base: str, name: str) -> HttpResponse:
    if name != "User":
        raise ScimError(404, f"Resource type {name} not found.")
    return respond(protocol.resource_type_user(base))


@scim_endpoint(("GET",))
def schemas(request: HttpRequest, token: ScimToken, base: str) -> HttpResponse:
    found = protocol.schemas(base)
    return respond(protocol.list_response(found, len(found), 1))


@scim_endpoint(("GET",))
def schema(request: HttpRequest, token: ScimToken, base: str, urn: str) -> HttpResponse:
    for found in protocol.schemas(base):
        if found["id"] == urn:
            return respond(found)
    raise ScimError(404, f"Schema {urn} not found.")


def _int_param(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ScimError(400, f"{name} must be a whole number.", "invalidValue") from exc


@scim_endpoint(("GET", "POST"))
def users(request: HttpRequest, token: ScimToken, base: str) -> HttpResponse:
    if request.method == "POST":
        changes = parse.user_from_body(parse.load_json(request.body))
        membership = services.scim_user_create(token=token, changes=changes)
        found = selectors.get_scim_user(token.organization, str(membership.pk))
        resource = protocol.user_resource(found, base)
        return respond(resource, 201, Location=resource["meta"]["location"])
    rows = selectors.scim_users(token.organization)
    text = request.GET.get("filter")
    if text is not None:
        rows = rows.filter(parse.filter_q(text))
    # 1-based; RFC 7644 §3.4.2.4: below 1 means 1, a negative count means 0.
    start = min(max(_int_param(request, "startIndex", 1), 1), MAX_START)
    count = min(max(_int_param(request, "count", protocol.MAX_RESULTS), 0), protocol.MAX_RESULTS)
    total = rows.count()
    page = list(rows[start - 1 : start - 1 + count]) if count else []
    resources = [protocol.user_resource(m, base) for m in page]
    return respond(protocol.list_response(resources, total, start))


@scim_endpoint(("GET", "PUT", "PATCH", "DELETE"))
def user(request: HttpRequest, token: ScimToken, base: str, scim_id: str) -> HttpResponse:
    org = token.organization
    membership = selectors.get_scim_user(org, scim_id)
    if request.method == "DELETE":
        services.scim_user_deactivate(token=token, membership=membership)
        return respond(None, 204)
    if request.method == "PUT":
        changes = parse.user_from_body(parse.load_json(request.body))
        services.scim_user_update(token=token, membership=membership, changes=changes)
    elif request.method == "PATCH":
        changes = parse.user_from_patch(parse.load_json(request.body))
        services.scim_user_update(token=token, membership=membership, changes=changes)
    return respond(protocol.user_resource(selectors.get_scim_user(org, scim_id), base))


@scim_endpoint(("GET", "POST", "PUT", "PATCH", "DELETE"))
def unsupported(request: HttpRequest, token: ScimToken, base: str) -> HttpResponse:
    raise ScimError(404, f"{request.path} is not offered: only Users (no Groups, no Bulk).")
