"""Evidence pages under /o/<org_slug>/evidence/."""

from __future__ import annotations

from django.urls import path

from evidence import views

org_urlpatterns = [
    path("", views.overview, name="evidence_overview"),
    path("controls/<int:control_pk>/add/", views.evidence_add, name="evidence_add"),
    path("items/<int:pk>/", views.item_detail, name="evidence_item"),
    path("items/<int:pk>/remove/", views.item_remove, name="evidence_item_remove"),
    path("versions/<int:pk>/download/", views.version_download, name="evidence_download"),
    path("versions/<int:pk>/review/", views.version_review, name="evidence_review"),
]
