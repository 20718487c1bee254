"""The trust center's API routes, included under /api/v1/orgs/<organization_slug>/."""

from __future__ import annotations

from django.urls import path

from trust.api.views import (
    TrustControlsViewSet,
    TrustDocumentViewSet,
    TrustRequestViewSet,
    TrustSettingsViewSet,
)

# One trust center per organization: its settings and controls are single resources.
urlpatterns = [
    path(
        "trust/settings/",
        TrustSettingsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="trust-settings",
    ),
    path(
        "trust/settings/check-domain/",
        TrustSettingsViewSet.as_view({"post": "check_domain"}),
        name="trust-settings-check-domain",
    ),
    path(
        "trust/controls/",
        TrustControlsViewSet.as_view({"get": "retrieve", "put": "update"}),
        name="trust-controls",
    ),
]

ROUTES = (
    ("trust/documents", TrustDocumentViewSet, "trust-document"),
    ("trust/requests", TrustRequestViewSet, "trust-request"),
)
