"""Monitoring pages under /o/<org_slug>/monitoring/."""

from __future__ import annotations

from django.urls import path

from monitoring import views

org_urlpatterns = [
    path("", views.overview, name="monitoring"),
    path("checks/<int:pk>/", views.check_detail, name="monitoring_check"),
    path("connections/", views.connections, name="monitoring_connections"),
    path("connections/new/", views.connection_add, name="monitoring_connection_add"),
    path(
        "connections/<int:pk>/toggle/",
        views.connection_toggle,
        name="monitoring_connection_toggle",
    ),
    path(
        "connections/<int:pk>/delete/",
        views.connection_delete,
        name="monitoring_connection_delete",
    ),
]
