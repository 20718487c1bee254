"""Training pages under /o/<org_slug>/training/."""

from __future__ import annotations

from django.urls import path

from training import views

org_urlpatterns = [
    path("", views.training_list, name="training"),
    path("new/", views.new_course, name="training_new"),
    path("import/", views.import_completions, name="training_import"),
    path("library/<slug:key>/adopt/", views.adopt, name="training_adopt"),
    path("<int:pk>/", views.detail, name="training_detail"),
    path("<int:pk>/assign/", views.assign, name="training_assign"),
    path("<int:pk>/evidence/", views.record_evidence, name="training_evidence"),
    path(
        "<int:pk>/assignments/<int:assignment_pk>/delete/",
        views.unassign,
        name="training_unassign",
    ),
    path("completions/<int:pk>/certificate/", views.certificate, name="training_certificate"),
    path("<int:pk>/complete/", views.complete_in_app, name="training_complete"),
]
