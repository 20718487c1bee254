"""Risk register pages under /o/<org_slug>/risks/."""

from __future__ import annotations

from django.urls import path

from risks import views, views_assessment

org_urlpatterns = [
    path("", views.register, name="risks"),
    path("new/", views.risk_new, name="risk_new"),
    path("library/", views.risk_library, name="risk_library"),
    path("heatmap/", views.risk_heatmap, name="risk_heatmap"),
    path("matrix/", views.risk_matrix, name="risk_matrix"),
    path("assessments/", views_assessment.assessment_list, name="risk_assessments"),
    path("assessments/run/", views_assessment.assessment_run, name="risk_assessment_run"),
    path("assessments/<str:pk>/", views_assessment.assessment_detail, name="risk_assessment"),
    path(
        "assessments/<str:pk>/status/",
        views_assessment.assessment_status,
        name="risk_assessment_status",
    ),
    path(
        "assessments/<str:pk>/retry/",
        views_assessment.assessment_retry,
        name="risk_assessment_retry",
    ),
    path(
        "assessments/<str:pk>/<str:kind>/",
        views_assessment.assessment_download,
        name="risk_assessment_download",
    ),
    path("<str:pk>/", views.risk_detail, name="risk_detail"),
    path("<str:pk>/delete/", views.risk_delete, name="risk_delete"),
]
