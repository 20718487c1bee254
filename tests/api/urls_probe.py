"""A minimal organization endpoint on the real tenancy base, so authentication and tenancy
are tested independently of which resource viewsets exist: GET reads, POST writes (it asks
the permission layer for a write, as every write service does)."""

from __future__ import annotations

from django.urls import path
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from soc2app.api.tenancy import TenantViewSetMixin
from soc2app.urls import urlpatterns as real_urlpatterns
from tenants import permissions
from tenants.activity import Actor
from tenants.models import ApiKey
from tenants.permissions import Action


class ProbeViewSet(TenantViewSetMixin, viewsets.ViewSet):
    model = ApiKey

    def list(self, request: Request, **kwargs: object) -> Response:
        return Response(
            {
                "organization": self.organization.slug,
                "principal": Actor.for_principal(self.principal).label,
            }
        )

    def create(self, request: Request, **kwargs: object) -> Response:
        permissions.require(self.principal, Action.CONTROL_MANAGE)
        return Response({"written": True}, status=201)


probe = ProbeViewSet.as_view({"get": "list", "post": "create"})

urlpatterns = [
    path("api/v1/orgs/<slug:organization_slug>/probe/", probe, name="api_probe"),
    *real_urlpatterns,
]
