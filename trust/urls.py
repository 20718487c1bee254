"""Trust center URLs: the settings under /o/<org_slug>/settings/trust/, the public pages under
/trust/<slug>/ (no account)."""

from __future__ import annotations

from django.urls import path

from trust import views, views_public

org_urlpatterns = [
    path("", views.trust_settings, name="trust_settings"),
    path("controls/", views.trust_controls, name="trust_controls"),
    path("domain/check/", views.trust_domain_check, name="trust_domain_check"),
    path("documents/", views.trust_document_add, name="trust_document_add"),
    path("documents/<int:pk>/", views.trust_document_edit, name="trust_document_edit"),
    path(
        "documents/<int:pk>/withdraw/",
        views.trust_document_withdraw,
        name="trust_document_withdraw",
    ),
    path("requests/", views.trust_requests, name="trust_requests"),
    path("requests/<int:pk>/decide/", views.trust_request_decide, name="trust_request_decide"),
]

public_urlpatterns = [
    path("", views_public.trust_page, name="trust_page"),
    path("documents/<int:pk>/", views_public.trust_document, name="trust_document"),
    path("documents/<int:pk>/request/", views_public.trust_request, name="trust_request"),
    path("download/<str:token>/", views_public.trust_download, name="trust_download"),
]
