from django.urls import path

from soc2app.home import org_home
from tenants import views, views_integrations

# Mounted under /o/<org_slug>/: TenantMiddleware resolves the organization for every one.
org_urlpatterns = [
    path("", org_home, name="org_home"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.invitation_create, name="invitation_create"),
    path("members/<int:pk>/role/", views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("activity/", views.activity, name="activity"),
    path("settings/security/", views.security, name="org_security"),
    path(
        "settings/security/review/",
        views.security_review_policy,
        name="org_security_review_policy",
    ),
    path("settings/api-keys/", views_integrations.api_keys, name="api_keys"),
    path(
        "settings/api-keys/<int:pk>/revoke/",
        views_integrations.api_key_revoke,
        name="api_key_revoke",
    ),
    path("settings/webhooks/", views_integrations.webhook_endpoints, name="webhook_endpoints"),
    path(
        "settings/webhooks/<int:pk>/delete/",
        views_integrations.webhook_endpoint_delete,
        name="webhook_endpoint_delete",
    ),
    path(
        "settings/webhooks/<int:pk>/test/",
        views_integrations.webhook_endpoint_test,
        name="webhook_endpoint_test",
    ),
]

urlpatterns = [
    path("orgs/", views.org_list, name="org_list"),
    path("orgs/new/", views.org_create, name="org_create"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
