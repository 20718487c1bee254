"""``GET /api/v1/orgs/<slug>/sso/``: the organization's single sign-on status, read-only, for
every member and key that reads the organization (configuration stays in the owners' page)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from soc2app.api.tenancy import TenantViewSetMixin
from sso import selectors
from sso.api.serializers import SsoStatusOut
from sso.models import SsoConnection


@extend_schema(tags=["sso"])
class SsoStatusViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    model = SsoConnection
    serializer_class = SsoStatusOut
    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "head", "options"]

    def get_scoped_queryset(self):  # noqa: ANN201
        return SsoConnection.objects.for_org(self.organization)

    @extend_schema(summary="Single sign-on status", responses=SsoStatusOut)
    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        connection = selectors.connection_for(self.organization)
        domains = list(selectors.domains_of(self.organization))
        body = {
            "configured": connection is not None,
            "protocol": connection.kind if connection else None,
            "enabled": bool(connection and connection.enabled),
            "require_sso": bool(connection and connection.require_sso),
            "allow_jit": bool(connection and connection.allow_jit),
            "tested_at": connection.tested_at if connection else None,
            "domains": [
                {
                    "domain": d.domain,
                    "verified": d.verified,
                    "verified_method": d.verified_method,
                    "verified_at": d.verified_at,
                }
                for d in domains
            ],
        }
        return Response(SsoStatusOut(body).data)
