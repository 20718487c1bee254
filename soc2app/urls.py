from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from controls import urls as control_urls
from criteria import urls as catalog_urls
from evidence import urls as evidence_urls
from monitoring import urls as monitoring_urls
from people import urls as people_urls
from policies import urls as policy_urls
from policies import views_public as policy_public
from reports import urls as report_urls
from risks import urls as risk_urls
from scim import urls as scim_urls
from soc2app import api_docs, health, metrics
from sso import urls as sso_urls
from tenants import urls as tenant_urls
from tenants import views as tenant_views
from training import urls as training_urls
from training import views_public as training_public
from trust import urls as trust_urls
from vendors import urls as vendor_urls

# Every app's organization pages go under /o/<org_slug>/ (see TenantMiddleware).
org_patterns = [
    *tenant_urls.org_urlpatterns,
    path("catalog/", include(catalog_urls.org_urlpatterns)),
    *control_urls.org_urlpatterns,
    path("evidence/", include(evidence_urls.org_urlpatterns)),
    path("reports/", include(report_urls.org_urlpatterns)),
    path("monitoring/", include(monitoring_urls.org_urlpatterns)),
    path("policies/", include(policy_urls.org_urlpatterns)),
    path("people/", include(people_urls.org_urlpatterns)),
    path("checklists/", include(people_urls.checklist_urlpatterns)),
    path("training/", include(training_urls.org_urlpatterns)),
    path("risks/", include(risk_urls.org_urlpatterns)),
    path("vendors/", include(vendor_urls.org_urlpatterns)),
    path("settings/trust/", include(trust_urls.org_urlpatterns)),
    path("portal/", include(report_urls.portal_urlpatterns)),
    *sso_urls.org_urlpatterns,
    *scim_urls.org_urlpatterns,
]

urlpatterns = [
    path("", tenant_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    *sso_urls.urlpatterns,
    path("accounts/", include("allauth.urls")),
    path("accept/<slug:organization>/<str:token>/", policy_public.accept, name="policy_accept"),
    path(
        "training-link/<slug:organization>/<str:token>/",
        training_public.complete,
        name="training_link",
    ),
    # The public trust centers (no account): their own URL space and layout.
    path("trust/<slug:slug>/", include(trust_urls.public_urlpatterns)),
    path("", include(tenant_urls.urlpatterns)),
    path("o/<slug:org_slug>/", include(org_patterns)),
    path("scim/v2/<slug:organization>/", include(scim_urls.scim_urlpatterns)),
    path("api/v1/", include("soc2app.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", api_docs.api_docs, name="api_docs"),
]

handler500 = "soc2app.middleware.server_error"
