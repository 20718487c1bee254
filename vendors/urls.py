"""Vendor pages under /o/<org_slug>/vendors/."""

from __future__ import annotations

from django.urls import path

from vendors import views, views_import

org_urlpatterns = [
    path("", views.vendor_list, name="vendors"),
    path("new/", views.vendor_new, name="vendor_new"),
    path("rules/", views.vendor_rules, name="vendor_rules"),
    path("import/", views_import.import_upload, name="vendor_import"),
    path("import/confirm/", views_import.import_confirm, name="vendor_import_confirm"),
    path("import/template.csv", views_import.import_template, name="vendor_import_template"),
    path("<int:pk>/", views.vendor_detail, name="vendor_detail"),
    path("<int:pk>/edit/", views.vendor_edit, name="vendor_edit"),
    path("<int:pk>/delete/", views.vendor_delete, name="vendor_delete"),
    path("<int:pk>/documents/", views.document_add, name="vendor_document_add"),
    path(
        "<int:pk>/documents/<int:doc_pk>/download/",
        views.document_download,
        name="vendor_document",
    ),
    path("<int:pk>/reviews/", views.review_add, name="vendor_review_add"),
]
