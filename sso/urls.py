from django.urls import path

from sso import views, views_saml, views_signin

# Mounted under /o/<org_slug>/ (TenantMiddleware resolves the organization).
org_urlpatterns = [
    path("settings/sso/", views.sso_settings, name="sso_settings"),
    path("settings/sso/connection/", views.sso_configure, name="sso_configure"),
    path("settings/sso/test/", views.sso_test, name="sso_test"),
    path("settings/sso/enable/", views.sso_enable, name="sso_enable"),
    path("settings/sso/policy/", views.sso_policy, name="sso_policy"),
    path("settings/sso/domains/", views.sso_domain_add, name="sso_domain_add"),
    path(
        "settings/sso/domains/<int:pk>/verify/", views.sso_domain_verify, name="sso_domain_verify"
    ),
    path(
        "settings/sso/domains/<int:pk>/remove/", views.sso_domain_remove, name="sso_domain_remove"
    ),
    path("sso/continue/", views_signin.sso_continue, name="sso_continue"),
]

urlpatterns = [
    path("sso/", views_signin.sso_login, name="sso_login"),
    # Before allauth's URLs: the same path as its ``saml_finish_acs`` (see sso.views_saml).
    path("accounts/saml/<str:organization_slug>/acs/finish/", views_saml.finish_acs),
]
