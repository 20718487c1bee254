"""Risk register pages under /o/<org_slug>/risks/."""

from __future__ import annotations

from django.urls import path

from risks import views

org_urlpatterns = [
    path("", views.register, name="risks"),
    path("new/", views.risk_new, name="risk_new"),
    path("library/", views.risk_library, name="risk_library"),
    path("heatmap/", views.risk_heatmap, name="risk_heatmap"),
    path("matrix/", views.risk_matrix, name="risk_matrix"),
    path("<str:pk>/", views.risk_detail, name="risk_detail"),
    path("<str:pk>/delete/", views.risk_delete, name="risk_delete"),
]
