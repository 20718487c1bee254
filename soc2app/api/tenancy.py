"""Tenancy for the API: every organization resource lives under ``/api/v1/orgs/<slug>/``.

``TenantViewSetMixin`` is the one place that decides which organization a request acts in and
who acts (the *principal*): an API key (``request.auth`` with an ``organization_id``, set by
the key authentication class) whose organization must be the one in the URL, or the signed-in
user's active membership of it. Anything else is a 404, so a missing organization and one the
caller may not see look the same. The mixin makes the organization current (the tenant
``ContextVar``) for the request and always resets it, and owns ``get_queryset``: subclasses
implement ``get_scoped_queryset()`` with ``Model.objects.for_org(self.organization)``.

Writes go through services, which check the principal's role themselves (``NotPermitted`` is
a 403 through ``soc2app.api.errors``).

The URL keyword is ``organization_slug``, not ``org_slug``: ``TenantMiddleware`` resolves any
view with an ``org_slug`` keyword from the session and redirects anonymous callers to the
login page, which would turn every API-key request into a redirect.
"""

from __future__ import annotations

import functools
import hashlib
from contextvars import Token
from typing import Any, Protocol

from django.db.models import Model, QuerySet
from django.http import HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils.http import parse_etags, quote_etag
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from soc2app.api import idempotency
from soc2app.api.parsers import SafeJSONParser, as_api_error
from soc2app.errors import NotFound, NotPermitted
from sso.middleware import sso_refusal
from tenants import context, mfa, permissions
from tenants.models import Organization, Role
from tenants.permissions import Action
from tenants.selectors import membership_for

ORG_SLUG_KWARG = "organization_slug"
MAX_ID = 2**63 - 1


class Principal(Protocol):
    """Who acts: a ``Membership`` (a person) or an API key; both offer these attributes."""

    pk: int
    organization: Organization
    organization_id: int
    role: str
    is_active: bool
    user: Any
    label: str


def is_api_key(auth: object) -> bool:
    return auth is not None and getattr(auth, "organization_id", None) is not None


def principal_for(request: Request, slug: str) -> Principal | None:
    """The principal acting in the organization at ``slug``, or None when there is none."""
    if is_api_key(request.auth):
        key = request.auth
        if not key.is_active:
            return None
        # The key authentication class reads the key with its organization: no query here.
        return key if key.organization.slug == slug else None
    user = request.user
    if user is None or not user.is_authenticated:
        return None
    return membership_for(user=user, org_slug=slug)


def object_id(value: object, what: str) -> int:
    """A primary key from the URL or the body; anything else is "not found", never a 500
    (a huge number would overflow the database column)."""
    text = str(value)
    pk = int(text) if text.isascii() and text.isdigit() and len(text) < 20 else 0
    if not 0 < pk <= MAX_ID:
        raise NotFound(f"No such {what}.")
    return pk


def conditional(request: Request, response: Response) -> HttpResponseBase:
    """A strong ``ETag`` on a read (a hash of the body it sends), and 304 Not Modified when the
    client already holds that version (``If-None-Match``): a poller re-downloads nothing
    unchanged. The body is rendered here, once (the renderer's output is deterministic)."""
    response.render()
    etag = quote_etag(hashlib.sha256(response.content).hexdigest()[:32])
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        not_modified = HttpResponseNotModified()
        not_modified["ETag"] = etag
        return not_modified
    response["ETag"] = etag
    return response


class HasOrganizationAccess(BasePermission):
    """A signed-in user or a valid API key. Whether they belong to the organization in the
    URL is checked next, by ``TenantViewSetMixin.initial`` (404 when they do not)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if is_api_key(request.auth):
            return True
        return bool(request.user and request.user.is_authenticated)


class TenantViewSetMixin:
    """Base of every organization viewset (put it first among the bases)."""

    permission_classes = [HasOrganizationAccess]
    parser_classes = [SafeJSONParser]  # JSON bodies only (evidence uploads add multipart)
    #: The tenant model behind ``get_scoped_queryset`` (schema generation reads it).
    model: type[Model]
    #: Auditors are refused unless a viewset opts in (Type 2 sampling): such a viewset looks
    #: every audit up through the auditor's grants (``reports.selectors.portal_audit_get``).
    admits_auditors: bool = False

    organization: Organization
    principal: Principal
    _tenant_token: Token | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        principal = principal_for(request, str(self.kwargs.get(ORG_SLUG_KWARG, "")))
        if principal is None:
            raise NotFound("No such organization.")
        # Reading the organization is allowed to every role; each write is checked by its
        # service. A principal without even that (a key role nobody mapped) is refused here.
        permissions.require(principal, Action.VIEW)
        if principal.role == Role.AUDITOR and not self.admits_auditors:
            # Auditors read only the audits they were granted, in the auditor portal.
            raise NotPermitted("Auditors use the auditor portal; the API is not open to them.")
        if not getattr(principal, "is_api_key", False):  # a person: the MFA policy applies
            state = mfa.mfa_state(request._request, principal)
            if state is not mfa.MfaState.OK:
                raise NotPermitted(mfa.refusal_message(principal, state))
            # and so does "require single sign-on" (the pages' RequireSsoMiddleware only
            # sees ``org_slug`` URLs): a session not signed in through the org's IdP is refused.
            refusal = sso_refusal(request._request, principal)
            if refusal is not None:
                raise NotPermitted(
                    f"{refusal} Sign in through it (Sign in with single sign-on) to use the "
                    "API with this session, or use an API key."
                )
        self.organization = principal.organization
        self.principal = principal
        for target in (request, request._request):
            target.organization = self.organization
            target.principal = principal
            target.membership = principal
        self._tenant_token = context.activate(self.organization)
        if request.method not in SAFE_METHODS:
            self._wrap_write(request)

    def _wrap_write(self, request: Request) -> None:
        """Run this write's handler through ``idempotency.run_write``: one transaction with
        its answer, the ``Idempotency-Key`` honoured, a connection lost after COMMIT answered
        with what was saved. (DRF looks the handler up after ``initial``; ``as_view`` binds
        viewset actions the same way.)"""
        name = request.method.lower()
        handler = getattr(self, name, None)
        if handler is None:
            return  # not allowed here: DRF answers 405
        key = idempotency.request_key(request)
        setattr(self, name, functools.partial(idempotency.run_write, self, handler, key))

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        finally:
            if self._tenant_token is not None:
                context.deactivate(self._tenant_token)
                self._tenant_token = None

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and isinstance(response, Response)  # not a file download
        ):
            return conditional(request, response)
        return response

    def require(self, action: Action) -> None:
        """Refuse a write before its input is read: a caller without the right gets a 403
        whatever the body (the service checks again, with the object in hand)."""
        permissions.require(self.principal, action)

    def handle_exception(self, exc: Exception) -> Any:
        return super().handle_exception(as_api_error(exc))  # type: ignore[misc]

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no organization
            return self.model._base_manager.none()
        return self.get_scoped_queryset()

    def get_scoped_queryset(self) -> QuerySet:
        raise NotImplementedError("Return Model.objects.for_org(self.organization)...")
