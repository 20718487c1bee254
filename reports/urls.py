"""Report pages, mounted under /o/<org_slug>/reports/."""

from __future__ import annotations

from django.urls import path

from reports import views

org_urlpatterns = [
    path("audits/<int:audit_pk>/", views.report_list, name="report_list"),
    path("audits/<int:audit_pk>/new/", views.report_request, name="report_request"),
    path("<int:pk>/status/", views.report_status, name="report_status"),
    path("<int:pk>/retry/", views.report_retry, name="report_retry"),
    path("<int:pk>/download/", views.report_download, name="report_download"),
]
