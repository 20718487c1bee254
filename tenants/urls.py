from django.urls import path

from tenants import views

# Mounted under /o/<org_slug>/: TenantMiddleware resolves the organization for every one.
org_urlpatterns = [
    path("", views.org_home, name="org_home"),
    path("members/", views.members, name="members"),
    path("members/invite/", views.invitation_create, name="invitation_create"),
    path("members/<int:pk>/role/", views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("activity/", views.activity, name="activity"),
]

urlpatterns = [
    path("orgs/", views.org_list, name="org_list"),
    path("orgs/new/", views.org_create, name="org_create"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
