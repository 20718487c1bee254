"""Policy pages under /o/<org_slug>/policies/."""

from __future__ import annotations

from django.urls import path

from policies import views, views_acceptance

org_urlpatterns = [
    path("", views.policy_list, name="policies"),
    path("library/", views.library, name="policy_library"),
    path("library/<slug:key>/adopt/", views.adopt, name="policy_adopt"),
    path("new/", views.policy_new, name="policy_new"),
    path("preview/", views.preview, name="policy_preview"),
    path("<int:pk>/", views.policy_detail, name="policy_detail"),
    path("<int:pk>/settings/", views.policy_settings, name="policy_settings"),
    path("<int:pk>/edit/", views.version_edit, name="policy_edit"),
    path("<int:pk>/new-version/", views.version_start, name="policy_version_start"),
    path("<int:pk>/submit/", views.version_submit, name="policy_submit"),
    path("<int:pk>/approve/", views.version_approve, name="policy_approve"),
    path("<int:pk>/return/", views.version_return, name="policy_return"),
    path("<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("<int:pk>/acceptance/", views_acceptance.acceptance_page, name="policy_acceptance"),
    path(
        "<int:pk>/acceptance/evidence/",
        views_acceptance.record_evidence,
        name="policy_acceptance_evidence",
    ),
    path("<int:pk>/accept/", views_acceptance.accept_in_app, name="policy_accept_in_app"),
    path("<int:pk>/assign/", views_acceptance.assign, name="policy_assign"),
    path(
        "<int:pk>/assignments/<int:assignment_pk>/delete/",
        views_acceptance.unassign,
        name="policy_unassign",
    ),
    path("<int:pk>/v<int:number>/", views.version_detail, name="policy_version"),
    path("<int:pk>/v<int:number>/pdf/", views.version_pdf, name="policy_version_pdf"),
]
