from django.urls import path, re_path

from scim import api, views

# Mounted at /scim/v2/<organization>/ (the SCIM base URL an IdP is given). The keyword is not
# ``org_slug`` on purpose: these are not browser pages (``TenantMiddleware``), the token is
# checked inside the organization by ``scim.api``.
scim_urlpatterns = [
    path("ServiceProviderConfig", api.service_provider_config, name="scim_sp_config"),
    path("ResourceTypes", api.resource_types, name="scim_resource_types"),
    path("ResourceTypes/<str:name>", api.resource_type, name="scim_resource_type"),
    path("Schemas", api.schemas, name="scim_schemas"),
    path("Schemas/<str:urn>", api.schema, name="scim_schema"),
    re_path(r"^Users/?$", api.users, name="scim_users"),
    re_path(r"^Users/(?P<scim_id>[^/]+)/?$", api.user, name="scim_user"),
    # Groups, /Bulk, /Me...: not offered; answered in SCIM's error format, not an HTML page.
    re_path(r"^.*$", api.unsupported),
]

# Under /o/<org_slug>/ (owners' settings page).
org_urlpatterns = [
    path("settings/provisioning/", views.provisioning, name="scim_provisioning"),
    path(
        "settings/provisioning/tokens/<int:pk>/revoke/",
        views.token_revoke,
        name="scim_token_revoke",
    ),
]
