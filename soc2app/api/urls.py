"""/api/v1/: every app registers its viewsets here.

The global catalog is at ``/api/v1/catalog/``; an organization's resources are under
``/api/v1/orgs/<organization_slug>/`` and their viewsets build on
``soc2app.api.tenancy.TenantViewSetMixin``.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import DefaultRouter, SimpleRouter

from controls.api.views import ControlTemplateViewSet
from controls.api.views_audits import AuditViewSet, SystemViewSet
from controls.api.views_controls import ControlViewSet
from controls.api.views_deviations import DeviationViewSet
from criteria.api.views import CriterionViewSet, FrameworkViewSet
from evidence.api.views import ControlEvidenceViewSet, EvidenceVersionViewSet
from monitoring.api.runs import RunViewSet
from monitoring.api.views import CheckViewSet, ConnectionViewSet, FindingViewSet
from monitoring.api.views_audit import AuditCheckViewSet
from people.api.checklists import (
    ChecklistItemViewSet,
    ChecklistTemplateViewSet,
    ChecklistViewSet,
)
from people.api.views import PersonViewSet
from policies.api.views import PolicyViewSet
from reports.api.views import AuditReportViewSet, ReportViewSet
from reports.api.views_portal_people import (
    PortalAcceptanceViewSet,
    PortalCompletionViewSet,
    PortalPolicyVersionViewSet,
    PortalRequirementViewSet,
    PortalSampledChecklistViewSet,
)
from reports.api.views_portal_registers import (
    PortalRiskAssessmentViewSet,
    PortalRiskViewSet,
    PortalVendorViewSet,
)
from reports.api.views_sampling import PopulationViewSet, SampleItemViewSet, SampleViewSet
from risks.api.assessments import RiskAssessmentViewSet
from risks.api.views import RiskViewSet
from soc2app.api import schema  # noqa: F401  (registers the schema extension)
from soc2app.api.tenancy import ORG_SLUG_KWARG
from sso.api.views import SsoStatusViewSet
from tenants.api.views_webhooks import WebhookEndpointViewSet
from training.api.views import TrainingViewSet
from trust.api import urls as trust_api_urls
from vendors.api.views import VendorViewSet

router = DefaultRouter(trailing_slash=True)
router.register("catalog/frameworks", FrameworkViewSet, basename="framework")
router.register("catalog/criteria", CriterionViewSet, basename="criterion")
router.register("catalog/templates", ControlTemplateViewSet, basename="template")

org_router = SimpleRouter(trailing_slash=True)
org_router.register("controls", ControlViewSet, basename="control")
org_router.register(
    r"controls/(?P<control_pk>[^/.]+)/evidence", ControlEvidenceViewSet, basename="control-evidence"
)
org_router.register("evidence/versions", EvidenceVersionViewSet, basename="evidence-version")
org_router.register("deviations", DeviationViewSet, basename="deviation")
org_router.register("systems", SystemViewSet, basename="system")
org_router.register("audits", AuditViewSet, basename="audit")
org_router.register(
    r"audits/(?P<audit_pk>[^/.]+)/reports", AuditReportViewSet, basename="audit-report"
)
org_router.register("reports", ReportViewSet, basename="report")
org_router.register(
    r"audits/(?P<audit_pk>[^/.]+)/populations", PopulationViewSet, basename="audit-population"
)
org_router.register(r"audits/(?P<audit_pk>[^/.]+)/samples", SampleViewSet, basename="audit-sample")
org_router.register(
    r"audits/(?P<audit_pk>[^/.]+)/sample-items", SampleItemViewSet, basename="audit-sample-item"
)
org_router.register(
    r"audits/(?P<audit_pk>[^/.]+)/monitoring/checks", AuditCheckViewSet, basename="audit-check"
)
# An audit's people and policies (the auditor portal's reads).
for _prefix, _viewset, _basename in (
    ("policy-versions", PortalPolicyVersionViewSet, "audit-policy-version"),
    ("policy-acceptances", PortalAcceptanceViewSet, "audit-policy-acceptance"),
    ("training-requirements", PortalRequirementViewSet, "audit-training-requirement"),
    ("training-completions", PortalCompletionViewSet, "audit-training-completion"),
    ("sampled-checklists", PortalSampledChecklistViewSet, "audit-sampled-checklist"),
    # ...and its risk register and vendors.
    ("risks", PortalRiskViewSet, "audit-risk"),
    ("risk-assessments", PortalRiskAssessmentViewSet, "audit-risk-assessment"),
    ("vendors", PortalVendorViewSet, "audit-vendor"),
):
    org_router.register(rf"audits/(?P<audit_pk>[^/.]+)/{_prefix}", _viewset, basename=_basename)
org_router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
org_router.register("monitoring/connections", ConnectionViewSet, basename="monitoring-connection")
org_router.register("monitoring/checks", CheckViewSet, basename="monitoring-check")
org_router.register("monitoring/findings", FindingViewSet, basename="monitoring-finding")
org_router.register("monitoring/runs", RunViewSet, basename="monitoring-run")
org_router.register("policies", PolicyViewSet, basename="policy")
org_router.register("people", PersonViewSet, basename="person")
org_router.register("checklist-templates", ChecklistTemplateViewSet, basename="checklist-template")
org_router.register("checklists", ChecklistViewSet, basename="checklist")
org_router.register("checklist-items", ChecklistItemViewSet, basename="checklist-item")
org_router.register("training", TrainingViewSet, basename="training")
# Before "risks": its detail route would take "assessments" for a risk id.
org_router.register("risks/assessments", RiskAssessmentViewSet, basename="risk-assessment")
org_router.register("risks", RiskViewSet, basename="risk")
org_router.register("vendors", VendorViewSet, basename="vendor")
for _prefix, _viewset, _basename in trust_api_urls.ROUTES:
    org_router.register(_prefix, _viewset, basename=_basename)


# Exempt from CSRF: it changes nothing, and a POST with an API key to a path no route takes
# (``audits/0.5/reports/``) must get this JSON 404, not the CSRF middleware's HTML 403.
@csrf_exempt
def no_such_endpoint(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other /api/v1/ path: the API's JSON 404 rather than the site's HTML page."""
    detail = "No such endpoint: see /api/docs/ for the paths (each ends with a slash)."
    return JsonResponse({"detail": detail, "code": "not_found"}, status=404)


urlpatterns = [
    *router.urls,
    path(f"orgs/<str:{ORG_SLUG_KWARG}>/", include(org_router.urls)),
    path(f"orgs/<str:{ORG_SLUG_KWARG}>/", include(trust_api_urls.urlpatterns)),
    # One single sign-on status per organization: a single resource, not a list.
    path(
        f"orgs/<str:{ORG_SLUG_KWARG}>/sso/",
        SsoStatusViewSet.as_view({"get": "retrieve"}),
        name="sso-detail",
    ),
    # Last: register every /api/v1/ route above this line.
    re_path(r"^(?P<path>.*)$", no_such_endpoint),
]
