"""Monitoring pages under /o/<org_slug>/monitoring/."""

from __future__ import annotations

from django.urls import path

from monitoring import views, views_runs

org_urlpatterns = [
    path("", views.overview, name="monitoring"),
    path("checks/<int:pk>/", views.check_detail, name="monitoring_check"),
    path("connections/", views.connections, name="monitoring_connections"),
    path("connections/new/", views.connection_add, name="monitoring_connection_add"),
    path("connections/<int:pk>/", views_runs.connection_detail, name="monitoring_connection"),
    path(
        "connections/<int:pk>/edit/",
        views_runs.connection_edit,
        name="monitoring_connection_edit",
    ),
    path("connections/<int:pk>/run/", views_runs.run_start, name="monitoring_run_start"),
    path(
        "connections/<int:pk>/test/",
        views_runs.connection_test,
        name="monitoring_connection_test",
    ),
    path("runs/<int:pk>/", views_runs.run_row, name="monitoring_run_row"),
    path("runs/<int:pk>/retry/", views_runs.run_retry, name="monitoring_run_retry"),
    path("runs/<int:pk>/output/", views_runs.run_output, name="monitoring_run_output"),
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
